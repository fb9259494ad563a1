#!/usr/bin/env bash
# The local demo in one command, on a fresh machine: installs Node 24, Debian's
# docker-registry, npm dependencies; builds pullcheck and (first time only, cached) the
# kube-apiserver and etcd binaries; then runs demo/demo.ts, which starts a registry, an
# API server and the webhook, applies a good and a bad workload, and cleans up.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/toolchain.sh

ensure_dev_environment
log "building pullcheck"
npm run -s build
log "kube-apiserver and etcd (built from Go modules on the first run, then cached in $PULLCHECK_CACHE/kube)"
bash scripts/build-kube.sh >/dev/null
exec node demo/demo.ts
