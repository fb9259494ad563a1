#!/usr/bin/env bash
# Builds kube-apiserver and etcd from their Go modules (test/e2e/kube-build/) for the
# end-to-end tests, into a cache outside the clone keyed by version:
#   $PULLCHECK_CACHE/kube/<k8s-version>-etcd-<etcd-version>/bin/
# Skips the build when both binaries are already there. Progress goes to stderr; the
# bin directory is the last line on stdout so callers can capture it.
# Needs only a Go toolchain (>= the go line in the modules) and the Go module proxy.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=toolchain.sh
source "$repo/scripts/toolchain.sh"

build_root="$repo/test/e2e/kube-build"
apiserver_mod="$build_root/apiserver"
etcd_mod="$build_root/etcd"

# The versions live in the go.mod files only; read them from there.
module_version() { # <go.mod> <module path>
  awk -v m="$2" '$1 == m && $2 ~ /^v/ { print $2; exit } $1 == "require" && $2 == m { print $3; exit }' "$1"
}
kube_version="$(module_version "$apiserver_mod/go.mod" k8s.io/kubernetes)"
etcd_version="$(module_version "$etcd_mod/go.mod" go.etcd.io/etcd/server/v3)"
if [ -z "$kube_version" ] || [ -z "$etcd_version" ]; then
  echo "build-kube.sh: cannot read the versions from $build_root/*/go.mod" >&2
  exit 1
fi

out_dir="$PULLCHECK_CACHE/kube/${kube_version}-etcd-${etcd_version}"
bin_dir="$out_dir/bin"

have_binaries() { [ -x "$bin_dir/kube-apiserver" ] && [ -x "$bin_dir/etcd" ]; }

if have_binaries; then
  log "kube-apiserver $kube_version and etcd $etcd_version already built in $bin_dir"
  echo "$bin_dir"
  exit 0
fi

command -v go >/dev/null || { echo "build-kube.sh: needs the Go toolchain (go) on PATH" >&2; exit 1; }
mkdir -p "$out_dir"

# Several test processes may ask at once: one builds, the others wait for it.
exec 9>"$out_dir/.build.lock"
if ! flock -n 9; then
  log "another build of $out_dir is running; waiting for it"
  flock 9
fi
if have_binaries; then
  echo "$bin_dir"
  exit 0
fi

# Two cores and a busy machine: two compile jobs keep memory and load in check.
# CGO off gives static binaries and needs no C compiler on a fresh machine.
export CGO_ENABLED=0
export GOFLAGS="-p=${KUBE_BUILD_JOBS:-2} -mod=readonly"

staging_dir="$out_dir/.staging"
rm -rf "$staging_dir"
mkdir -p "$staging_dir"

# Runs `go build -v` in the background and prints a heartbeat every 30 s with the
# number of packages compiled so far and the latest one, so a long first build
# shows it is alive without flooding the log.
build_with_progress() { # <label> <module dir> <output> <package> <ldflags>
  local label="$1" dir="$2" output="$3" package="$4" ldflags="$5"
  local build_log="$out_dir/build-$label.log"
  local started=$SECONDS
  log "building $label ($package) with $(go version | awk '{print $3}'); log: $build_log"
  (cd "$dir" && go build -v -trimpath -ldflags="$ldflags" -o "$output" "$package") >"$build_log" 2>&1 &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    local waited=0
    while [ $waited -lt 30 ] && kill -0 "$pid" 2>/dev/null; do
      sleep 1
      waited=$((waited + 1))
    done
    if kill -0 "$pid" 2>/dev/null; then
      local count last
      count=$(grep -c -v '^go: ' "$build_log" || true)
      last=$(grep -v '^go: ' "$build_log" | tail -n 1 || true)
      log "  $label: $((SECONDS - started))s, $count packages compiled${last:+, last: $last}"
    fi
  done
  if ! wait "$pid"; then
    echo "build-kube.sh: building $label failed; last lines of $build_log:" >&2
    tail -n 40 "$build_log" >&2
    return 1
  fi
  log "  $label: done in $((SECONDS - started))s"
}

log "downloading Go modules for kube-apiserver $kube_version and etcd $etcd_version"
(cd "$apiserver_mod" && go mod download) >&2
(cd "$etcd_mod" && go mod download) >&2

kube_minor="${kube_version#v1.}"
kube_minor="${kube_minor%%.*}"
version_pkg="k8s.io/component-base/version"
kube_ldflags="-s -w -X $version_pkg.gitVersion=$kube_version -X $version_pkg.gitMajor=1 -X $version_pkg.gitMinor=$kube_minor -X $version_pkg.gitTreeState=clean"

build_with_progress etcd "$etcd_mod" "$staging_dir/etcd" . "-s -w"
build_with_progress kube-apiserver "$apiserver_mod" "$staging_dir/kube-apiserver" \
  k8s.io/kubernetes/cmd/kube-apiserver "$kube_ldflags"

# Publish both binaries at once so a half-finished build is never mistaken for a cache hit.
rm -rf "$bin_dir"
mv "$staging_dir" "$bin_dir"
log "built kube-apiserver $kube_version and etcd $etcd_version into $bin_dir"
echo "$bin_dir"
