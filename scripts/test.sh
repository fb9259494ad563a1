#!/usr/bin/env bash
# The whole test suite, from a fresh clone on a fresh machine: installs what it needs
# (Node 24, Debian's docker-registry/skopeo/htpasswd, npm deps, the kube-apiserver and
# etcd binaries built from their Go modules and cached outside the clone), then runs
# lint, typecheck, build and every test (unit, real registry, real API server).
# .ci/run calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/toolchain.sh

ensure_dev_environment

log "lint (biome)"
npx biome check .
log "typecheck (tsc strict)"
npx tsc -p tsconfig.json --noEmit
log "build"
npm run -s build

log "kube-apiserver and etcd (cached in $PULLCHECK_CACHE/kube)"
bash scripts/build-kube.sh >/dev/null

log "tests: unit, integration (real registry), e2e (real API server + kubectl)"
node --test --test-reporter=spec --test-timeout=600000 \
  'test/unit/**/*.test.ts' 'test/integration/**/*.test.ts' 'test/e2e/**/*.test.ts'
