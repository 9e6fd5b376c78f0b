#!/usr/bin/env bash
# The install end to end on a kind cluster (`npm run e2e:kind`), where a Docker engine answers:
#
#   1. builds kind from the Go module proxy (build-kind.sh) and creates a cluster;
#   2. builds the image from the Containerfile and loads it into the cluster;
#   3. starts the LiteLLM-compatible test server on this machine, reachable from the cluster
#      at the kind network's gateway address (or uses E2E_LITELLM_URL);
#   4. installs the chart (in-chart Redis, tenant roles), runs `helm test`;
#   5. applies the platform repository (examples/gitops/platform/overlays/dev) as the admin and
#      the tenant repository (examples/gitops/tenant/overlays/dev) as the team's GitOps
#      ServiceAccount, as Flux and Argo CD would;
#   6. waits for the VirtualKey, reads its key from the Secret, and calls the gateway with it:
#      the subscribed model answers 200, another model is refused with 403.
#
# Without a Docker engine it tests nothing, says so loudly, and exits 77 (the conventional
# "skipped" status of automake and meson): never 0, so no CI job or script counts a skipped
# run as passed, and not 1, so a skip is told apart from a failure.
#
#   KIND_BINARY / HELM_BINARY / KUBECTL   use these instead of building or finding them
#   KIND_CLUSTER                          cluster name (default llm-tenancy-e2e)
#   KEEP_CLUSTER=1                        leave the cluster running afterwards
#   E2E_LITELLM_URL, E2E_LITELLM_MASTER_KEY
#                                         a LiteLLM the cluster reaches, instead of the test server
set -euo pipefail

SKIPPED=77
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
HERE="$ROOT/test/e2e/kind"

banner() {
  local rule='!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!'
  printf '%s\n' "$rule" "!!! $1" "!!! $2" "$rule" >&2
}

skip() {
  banner "kind e2e SKIPPED: $1" "Nothing was tested: this run is NOT a pass (exit $SKIPPED)."
  exit "$SKIPPED"
}

if ! command -v docker >/dev/null 2>&1; then
  skip "no Docker engine (docker info failed: docker: command not found)"
fi
if ! docker_error=$(docker info 2>&1 >/dev/null); then
  reason=$(printf '%s\n' "$docker_error" | grep -v '^[[:space:]]*$' | tail -n 1)
  skip "no Docker engine (docker info failed: ${reason:-exit status non-zero})"
fi

log() { echo "kind e2e: $*" >&2; }
fail() {
  banner "kind e2e FAILED: $1" "See the output above (${WORK:-the work directory} holds the logs)."
  exit 1
}

CLUSTER=${KIND_CLUSTER:-llm-tenancy-e2e}
IMAGE=llm-tenancy:e2e
NAMESPACE=llm-tenancy
RELEASE=llm
GATEWAY="$RELEASE-llm-tenancy-gateway"
TENANT_NAMESPACE=ml-research
TENANT_SA="system:serviceaccount:$TENANT_NAMESPACE:llm-tenancy-gitops"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/llm-tenancy-kind-e2e.XXXXXX")
KUBECONFIG_FILE="$WORK/kubeconfig"
NODE="$ROOT/node_modules/.bin/node" # Node 24, the project's own (`npx node`)
pids=()
created_cluster=

cleanup() {
  local status=$?
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  if [[ $status -ne 0 && -s "$KUBECONFIG_FILE" ]]; then
    log "what the cluster looked like:"
    k get pods -A -o wide >&2 || true
    k -n "$NAMESPACE" logs "deployment/$RELEASE-llm-tenancy-operator" --tail=50 >&2 || true
    k -n "$NAMESPACE" logs "deployment/$GATEWAY" --tail=50 >&2 || true
    k -n "$TENANT_NAMESPACE" describe virtualkey chatbot >&2 || true
  fi
  if [[ -n $created_cluster && ${KEEP_CLUSTER:-} != 1 ]]; then
    "$KIND" delete cluster --name "$CLUSTER" >&2 || true
  fi
  if [[ $status -eq 0 ]]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT

k() { "$KUBECTL" --kubeconfig "$KUBECONFIG_FILE" "$@"; }

# Retries "$@" every 2 s for up to $1 seconds.
retry() {
  local seconds=$1
  shift
  local deadline=$((SECONDS + seconds))
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 2
  done
}

# --- tools: built only here, only now that Docker answers
KIND=${KIND_BINARY:-$(bash "$HERE/build-kind.sh" | tail -n 1)}
HELM=${HELM_BINARY:-$(bash "$ROOT/test/harness/bin/build-helm.sh" | tail -n 1)}
if [[ -z ${KUBECTL:-} ]]; then
  if [[ -n ${KUBEBUILDER_ASSETS:-} && -x $KUBEBUILDER_ASSETS/kubectl ]]; then
    KUBECTL=$KUBEBUILDER_ASSETS/kubectl
  elif command -v kubectl >/dev/null 2>&1; then
    KUBECTL=$(command -v kubectl)
  else
    KUBECTL="$(bash "$ROOT/test/harness/bin/build-kube-binaries.sh" | tail -n 1)/kubectl"
  fi
fi
[[ -x $NODE ]] || fail "$NODE not found: run npm ci first"

# --- 1. the cluster
if "$KIND" get clusters 2>/dev/null | grep -qx "$CLUSTER"; then
  fail "a kind cluster named $CLUSTER exists already; delete it or set KIND_CLUSTER"
fi
log "creating kind cluster $CLUSTER"
created_cluster=1
"$KIND" create cluster --name "$CLUSTER" --kubeconfig "$KUBECONFIG_FILE" --wait 180s

# --- 2. the image
log "building $IMAGE from the Containerfile"
docker build -t "$IMAGE" -f "$ROOT/Containerfile" "$ROOT"
"$KIND" load docker-image "$IMAGE" --name "$CLUSTER"

# --- 3. LiteLLM
if [[ -n ${E2E_LITELLM_URL:-} ]]; then
  LITELLM_URL=$E2E_LITELLM_URL
  MASTER_KEY=${E2E_LITELLM_MASTER_KEY:?E2E_LITELLM_MASTER_KEY must be set with E2E_LITELLM_URL}
else
  # The kind network's IPv4 gateway is this machine as the cluster's pods see it.
  host_ip=$(docker network inspect kind -f '{{range .IPAM.Config}}{{.Gateway}} {{end}}' |
    tr ' ' '\n' | grep -E '^[0-9]+(\.[0-9]+){3}$' | head -n 1)
  [[ -n $host_ip ]] || fail "no IPv4 gateway on the docker network 'kind'"
  port=${E2E_LITELLM_PORT:-14000}
  MASTER_KEY="sk-e2e-master-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
  LITELLM_URL="http://$host_ip:$port"
  log "starting the LiteLLM-compatible test server on $LITELLM_URL"
  HOST=0.0.0.0 PORT=$port LITELLM_MASTER_KEY=$MASTER_KEY LITELLM_MODELS=granite-3-8b,llama-3-8b \
    "$NODE" "$ROOT/test/litellm-server/main.ts" >"$WORK/litellm.log" 2>&1 &
  pids+=($!)
  retry 30 curl -fsS -o /dev/null -H "Authorization: Bearer $MASTER_KEY" \
    "http://127.0.0.1:$port/model/info" || fail "the LiteLLM test server did not start ($WORK/litellm.log)"
fi

# --- 4. the chart
k create namespace "$NAMESPACE"
k -n "$NAMESPACE" create secret generic litellm-master-key --from-literal=master-key="$MASTER_KEY" >/dev/null
gateway_port=${E2E_GATEWAY_PORT:-18080}
log "helm install $RELEASE"
"$HELM" install "$RELEASE" "$ROOT/charts/llm-tenancy" --kubeconfig "$KUBECONFIG_FILE" -n "$NAMESPACE" \
  --set image.repository=llm-tenancy --set image.tag=e2e --set image.pullPolicy=Never \
  --set litellm.url="$LITELLM_URL" \
  --set litellm.masterKeySecret.name=litellm-master-key \
  --set redis.inChart.enabled=true \
  --set publicUrl="http://127.0.0.1:$gateway_port/v1" \
  --set tenantRoles.enabled=true \
  --wait --timeout 5m
"$HELM" test "$RELEASE" --kubeconfig "$KUBECONFIG_FILE" -n "$NAMESPACE" --logs

# --- 5. the two repositories, each with its applier's rights
log "applying the platform repository as the admin"
k apply --server-side --field-manager=e2e-platform -k "$ROOT/examples/gitops/platform/overlays/dev"
retry 60 k auth can-i create virtualkeys.llmtenancy.dev -n "$TENANT_NAMESPACE" --as="$TENANT_SA" >/dev/null ||
  fail "RBAC never let $TENANT_SA create VirtualKeys"
log "applying the tenant repository as $TENANT_SA"
k apply --server-side --field-manager=e2e-tenant --as="$TENANT_SA" -k "$ROOT/examples/gitops/tenant/overlays/dev"
if k auth can-i create teams.llmtenancy.dev --as="$TENANT_SA" >/dev/null 2>&1; then
  fail "$TENANT_SA may create Teams: the tenant repository would run with more than tenant rights"
fi

# --- 6. the key, through the gateway
log "waiting for VirtualKey chatbot"
k -n "$TENANT_NAMESPACE" wait --for=condition=Ready virtualkey/chatbot --timeout=180s
key=$(k -n "$TENANT_NAMESPACE" get secret chatbot-openai -o jsonpath='{.data.OPENAI_API_KEY}' | base64 -d)
[[ -n $key ]] || fail "Secret chatbot-openai holds no OPENAI_API_KEY"
k -n "$NAMESPACE" port-forward "svc/$GATEWAY" "$gateway_port:8080" >"$WORK/port-forward.log" 2>&1 &
pids+=($!)

# Prints the HTTP status of a chat completion for model $1 with the key; the body goes to $2.
chat() {
  curl -s -o "$2" -w '%{http_code}' "http://127.0.0.1:$gateway_port/v1/chat/completions" \
    -H "Authorization: Bearer $key" -H 'content-type: application/json' \
    -d "{\"model\":\"$1\",\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}" || true
}
answers() { [[ $(chat granite-3-8b "$WORK/granite.json") == 200 ]]; }
retry 60 answers || fail "granite-3-8b did not answer 200 with the key: $(cat "$WORK/granite.json" 2>/dev/null)"
log "granite-3-8b answered 200 with the generated key"
status=$(chat llama-3-8b "$WORK/llama.json")
[[ $status == 403 ]] && grep -q key_model_access_denied "$WORK/llama.json" ||
  fail "llama-3-8b (no subscription) answered $status, not 403 key_model_access_denied: $(cat "$WORK/llama.json")"
log "llama-3-8b was refused with 403 key_model_access_denied"

banner "kind e2e PASSED" "chart installed, both repositories applied, the generated key served by the gateway"
