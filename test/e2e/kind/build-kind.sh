#!/usr/bin/env bash
# Builds kind from the Go module proxy, once, into a cache outside the repository (as
# test/harness/bin/build-helm.sh does for helm), and prints the path of the binary. Only
# run.sh calls it, and only once a Docker engine answers.
#
#   KIND_VERSION       sigs.k8s.io/kind version (default below)
#   LLM_TENANCY_CACHE  cache root               (default ~/.cache/llm-tenancy)
set -euo pipefail

KIND_VERSION=${KIND_VERSION:-v0.33.0}
CACHE_ROOT=${LLM_TENANCY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/llm-tenancy}
OUT="$CACHE_ROOT/kind/kind-$KIND_VERSION"

if [[ -x "$OUT/kind" ]]; then
  echo "$OUT/kind"
  exit 0
fi

command -v go >/dev/null || { echo "build-kind: 'go' is not installed; it is needed once to build kind (or set KIND_BINARY)" >&2; exit 1; }

export CGO_ENABLED=0 GOTOOLCHAIN=${GOTOOLCHAIN:-auto}
export GOCACHE=${GOCACHE:-$CACHE_ROOT/go-build}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "build-kind: building kind $KIND_VERSION (first time only; a minute or two)" >&2
GOBIN="$work" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kind@$KIND_VERSION"
mkdir -p "$OUT"
mv "$work/kind" "$OUT/kind"
echo "$OUT/kind"
