#!/usr/bin/env bash
# Builds helm from the Go module proxy, once, into a cache outside the repository (like
# build-kube-binaries.sh), and prints the path of the binary. Nothing is downloaded from
# anywhere but the Go module proxy.
#
#   HELM_VERSION       helm.sh/helm/v3 version (default below)
#   LLM_TENANCY_CACHE  cache root              (default ~/.cache/llm-tenancy)
set -euo pipefail

HELM_VERSION=${HELM_VERSION:-v3.22.0}
CACHE_ROOT=${LLM_TENANCY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/llm-tenancy}
OUT="$CACHE_ROOT/helm/helm-$HELM_VERSION"

if [[ -x "$OUT/helm" ]]; then
  echo "$OUT/helm"
  exit 0
fi

command -v go >/dev/null || { echo "build-helm: 'go' is not installed; it is needed once to build helm (or set HELM_BINARY)" >&2; exit 1; }

export CGO_ENABLED=0 GOTOOLCHAIN=${GOTOOLCHAIN:-auto}
export GOCACHE=${GOCACHE:-$CACHE_ROOT/go-build}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "build-helm: building helm $HELM_VERSION (first time only; a few minutes)" >&2
GOBIN="$work" go install -trimpath \
  -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" \
  "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
mkdir -p "$OUT"
mv "$work/helm" "$OUT/helm"
echo "$OUT/helm"
