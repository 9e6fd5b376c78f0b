#!/usr/bin/env bash
# Builds kube-apiserver, kubectl and etcd from the Go module proxy, once, into a cache
# outside the repository (the way envtest's setup-envtest caches them), and prints the
# directory holding them. Nothing is downloaded from anywhere but the Go module proxy.
#
#   KUBE_VERSION  k8s.io/kubernetes version   (default below)
#   ETCD_VERSION  go.etcd.io/etcd version     (default below)
#   LLM_TENANCY_CACHE  cache root             (default ~/.cache/llm-tenancy)
set -euo pipefail

KUBE_VERSION=${KUBE_VERSION:-v1.37.2}
ETCD_VERSION=${ETCD_VERSION:-v3.7.3}
CACHE_ROOT=${LLM_TENANCY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/llm-tenancy}
OUT="$CACHE_ROOT/kube/kubernetes-$KUBE_VERSION-etcd-$ETCD_VERSION"

if [[ -x "$OUT/kube-apiserver" && -x "$OUT/etcd" && -x "$OUT/kubectl" ]]; then
  echo "$OUT"
  exit 0
fi

command -v go >/dev/null || { echo "build-kube-binaries: 'go' is not installed; it is needed once to build kube-apiserver and etcd (or set KUBEBUILDER_ASSETS)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export CGO_ENABLED=0 GOFLAGS=-mod=mod GOTOOLCHAIN=${GOTOOLCHAIN:-auto}
# Go's cache may live elsewhere; keep the build cache beside our output so warm runs are fast.
export GOCACHE=${GOCACHE:-$CACHE_ROOT/go-build}

log() { echo "build-kube-binaries: $*" >&2; }

# --- kubernetes: k8s.io/kubernetes replaces its staging modules with ./staging paths,
# which a module-proxy build cannot see; point each at its published v0.X.Y instead.
mkdir -p "$work/kube" && cd "$work/kube"
go mod init llm-tenancy.local/kube-build >/dev/null 2>&1
go mod edit -require "k8s.io/kubernetes@$KUBE_VERSION"
gomod=$(go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/^\s*"GoMod": "\(.*\)",\{0,1\}$/\1/p')
[[ -f "$gomod" ]] || { log "could not read go.mod of k8s.io/kubernetes@$KUBE_VERSION"; exit 1; }
staging_version="v0.${KUBE_VERSION#v1.}"
for m in $(sed -n 's#^\s*\(k8s.io/[A-Za-z0-9._-]*\) => \./staging/.*#\1#p' "$gomod"); do
  go mod edit -replace "$m=$m@$staging_version"
done
minor=${KUBE_VERSION#v1.}; minor=${minor%%.*}
ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$KUBE_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/client-go/pkg/version.gitVersion=$KUBE_VERSION"
mkdir -p "$work/out"
for cmd in kube-apiserver kubectl; do
  log "building $cmd $KUBE_VERSION (first time only; several minutes)"
  go build -trimpath -ldflags "$ldflags" -o "$work/out/$cmd" "k8s.io/kubernetes/cmd/$cmd"
done

# --- etcd: the server module's main package.
mkdir -p "$work/etcd" && cd "$work/etcd"
go mod init llm-tenancy.local/etcd-build >/dev/null 2>&1
go mod edit -require "go.etcd.io/etcd/server/v3@$ETCD_VERSION"
log "building etcd $ETCD_VERSION"
go build -trimpath -ldflags "-s -w" -o "$work/out/etcd" go.etcd.io/etcd/server/v3

mkdir -p "$OUT"
mv "$work/out/"* "$OUT/"
echo "$OUT"
