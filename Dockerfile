# syntax=docker/dockerfile:1
# pullcheck webhook image. test/e2e/package.test.ts performs these steps without Docker
# (build, production-only install, certs, serve) so what ships here is proven.
ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: the `prepare` build needs src/, which is copied after this layer.
RUN --mount=type=cache,target=/root/.npm npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE}
ENV NODE_ENV=production
# A 4 MiB young generation instead of V8's default keeps ~30 MB less committed heap in a
# long-running webhook, at no measured throughput cost (docs/decisions/0008, bench rss-10k).
ENV NODE_OPTIONS=--max-semi-space-size=4
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
# Same uid/gid as the Deployment's runAsUser; owns nothing, so it can write nothing.
USER 65532:65532
EXPOSE 8443
ENTRYPOINT ["node", "/app/dist/main.js"]
CMD ["serve"]
