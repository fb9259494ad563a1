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
WORKDIR /app
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist ./dist
# Same uid/gid as the Deployment's runAsUser; owns nothing, so it can write nothing.
USER 65532:65532
EXPOSE 8443
ENTRYPOINT ["node", "/app/dist/main.js"]
CMD ["serve"]
