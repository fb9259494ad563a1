#!/usr/bin/env bash
# Gives the installed webhook its TLS: run after `kubectl apply -k manifests/` (or an overlay).
#
#   1. `pullcheck certs` writes a CA and a serving certificate for
#      pullcheck.pullcheck-system.svc into certs/ (an existing certs/ca.crt + ca.key is
#      reused, so renewing keeps the caBundle the API server already trusts);
#   2. creates or updates the Secret pullcheck-tls (pods wait for it; a running pod
#      reloads the renewed files by itself within a minute or two);
#   3. patches the caBundle into every webhook of the live ValidatingWebhookConfiguration
#      pullcheck with `kubectl patch --type=json` (no kustomize patch file is written).
#      The manifests leave caBundle out on purpose, so a later `kubectl apply -k` keeps it.
#
# Keep certs/ca.key private (it is git-ignored); anyone holding it can impersonate the webhook.
# Renew: run this script again before the serving certificate expires (365 days).
#
# Environment: KUBECONFIG/context as for kubectl; PULLCHECK_CERTS_DIR (default certs);
# PULLCHECK (command to run pullcheck, default: this checkout's src/main.ts under Node 24).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=toolchain.sh
source scripts/toolchain.sh

NAMESPACE=pullcheck-system
SERVICE=pullcheck
SECRET=pullcheck-tls
WEBHOOK_CONFIGURATION=pullcheck
CERTS_DIR="${PULLCHECK_CERTS_DIR:-certs}"

fail() {
  printf 'install-certs: %s\n' "$*" >&2
  exit 1
}

if [ -n "${PULLCHECK:-}" ]; then
  read -r -a pullcheck <<<"$PULLCHECK"
else
  ensure_node24
  ensure_npm_deps
  pullcheck=(node src/main.ts)
fi

kubectl get namespace "$NAMESPACE" >/dev/null ||
  fail "namespace $NAMESPACE not found: run 'kubectl apply -k manifests/' first"
webhook_count="$(kubectl get validatingwebhookconfiguration "$WEBHOOK_CONFIGURATION" \
  -o go-template='{{len .webhooks}}')" ||
  fail "ValidatingWebhookConfiguration $WEBHOOK_CONFIGURATION not found: run 'kubectl apply -k manifests/' first"
[ "$webhook_count" -gt 0 ] || fail "ValidatingWebhookConfiguration $WEBHOOK_CONFIGURATION has no webhooks"

log "issuing the serving certificate for $SERVICE.$NAMESPACE.svc into $CERTS_DIR/"
ca_bundle="$("${pullcheck[@]}" certs --service "$SERVICE" --namespace "$NAMESPACE" --out "$CERTS_DIR")"
[ -n "$ca_bundle" ] || fail "pullcheck certs printed no caBundle"

log "writing Secret $NAMESPACE/$SECRET"
kubectl -n "$NAMESPACE" create secret tls "$SECRET" \
  --cert="$CERTS_DIR/tls.crt" --key="$CERTS_DIR/tls.key" \
  --dry-run=client -o yaml | kubectl apply -f -

log "setting the caBundle of $webhook_count webhooks in ValidatingWebhookConfiguration $WEBHOOK_CONFIGURATION"
# "add" sets the member whether or not it exists yet.
patch="["
for ((i = 0; i < webhook_count; i++)); do
  [ "$i" -eq 0 ] || patch+=","
  patch+="{\"op\":\"add\",\"path\":\"/webhooks/$i/clientConfig/caBundle\",\"value\":\"$ca_bundle\"}"
done
patch+="]"
kubectl patch validatingwebhookconfiguration "$WEBHOOK_CONFIGURATION" --type=json -p "$patch"

live="$(kubectl get validatingwebhookconfiguration "$WEBHOOK_CONFIGURATION" \
  -o go-template='{{range .webhooks}}{{.clientConfig.caBundle}}{{"\n"}}{{end}}')"
while IFS= read -r bundle; do
  [ "$bundle" = "$ca_bundle" ] || fail "a webhook's caBundle did not take the new value"
done <<<"$live"
log "done: pods pick up $SECRET when it is mounted; check with 'kubectl -n $NAMESPACE get pods'"
