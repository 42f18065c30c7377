#!/usr/bin/env bash
# Build the real binaries the test suite runs (helm, etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler, kwok) from the Go module proxy into a cache outside the repo.
# Idempotent: each binary has a stamp naming its pinned version; a present stamp skips the build.
# Recipe: ../shared/reference/real-control-plane.md. Usage: scripts/build-tools.sh [helm|controlplane|all]
set -euo pipefail
what=${1:-all}
K8S_VERSION=v1.36.3
STAGING_VERSION=v0.36.3
ETCD_VERSION=v3.6.14
KWOK_VERSION=v0.8.0
HELM_VERSION=v3.22.0
CACHE=${TRUEUP_TOOLS_CACHE:-$HOME/.cache/trueup/tools}
BIN=$CACHE/bin
BUILD=$CACHE/build
mkdir -p "$BIN" "$BUILD"
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod
command -v go >/dev/null || { echo "build-tools: go is not installed (need Go >= 1.26)" >&2; exit 1; }

stamp_ok() { [ -x "$BIN/$1" ] && [ "$(cat "$BIN/$1.stamp" 2>/dev/null)" = "$2" ]; }
stamp() { echo "$2" > "$BIN/$1.stamp"; }
log() { echo "build-tools: $*" >&2; }

build_helm() {
  stamp_ok helm "$HELM_VERSION" && return 0
  log "building helm $HELM_VERSION"
  local t0=$SECONDS
  GOBIN=$BIN go install -trimpath -ldflags='-s -w' "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  stamp helm "$HELM_VERSION"; log "helm built in $((SECONDS-t0)) s"
}

build_etcd() {
  stamp_ok etcd "$ETCD_VERSION" && return 0
  log "building etcd $ETCD_VERSION"
  local t0=$SECONDS d=$BUILD/etcdw
  rm -rf "$d"; mkdir -p "$d"; cd "$d"
  go mod init local/etcdw >/dev/null 2>&1
  go get -tool "go.etcd.io/etcd/server/v3@$ETCD_VERSION"
  go build -trimpath -ldflags='-s -w' -o "$BIN/etcd" go.etcd.io/etcd/server/v3
  stamp etcd "$ETCD_VERSION"; log "etcd built in $((SECONDS-t0)) s"
}

build_k8s() {
  if stamp_ok kube-apiserver "$K8S_VERSION" && stamp_ok kube-controller-manager "$K8S_VERSION" \
     && stamp_ok kube-scheduler "$K8S_VERSION"; then return 0; fi
  log "building kube-apiserver, kube-controller-manager, kube-scheduler $K8S_VERSION"
  local t0=$SECONDS d=$BUILD/k8sw
  rm -rf "$d"; mkdir -p "$d"; cd "$d"
  go mod init local/k8sw >/dev/null 2>&1
  # Every staging module k8s.io/kubernetes requires at v0.0.0 needs a replace (kubernetes#79384).
  local gomod
  gomod=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  {
    echo "replace ("
    grep -E '^\s*k8s\.io/[a-z0-9-]+ v0\.0\.0\s*$' "$gomod" | awk -v v="$STAGING_VERSION" '{print "\t" $1 " => " $1 " " v}' | sort -u
    echo ")"
  } >> go.mod
  go get -tool "k8s.io/kubernetes/cmd/kube-apiserver@$K8S_VERSION" \
    "k8s.io/kubernetes/cmd/kube-controller-manager@$K8S_VERSION" \
    "k8s.io/kubernetes/cmd/kube-scheduler@$K8S_VERSION"
  local minor; minor=$(echo "$K8S_VERSION" | cut -d. -f2)
  local X="-X k8s.io/component-base/version" Y="-X k8s.io/client-go/pkg/version"
  local LDF="-s -w $X.gitVersion=$K8S_VERSION $X.gitMajor=1 $X.gitMinor=$minor $Y.gitVersion=$K8S_VERSION $Y.gitMajor=1 $Y.gitMinor=$minor"
  for c in kube-apiserver kube-controller-manager kube-scheduler; do
    go build -trimpath -tags=selinux,notest,grpcnotrace -ldflags="$LDF" -o "$BIN/$c" "k8s.io/kubernetes/cmd/$c"
    stamp "$c" "$K8S_VERSION"
  done
  log "kubernetes binaries built in $((SECONDS-t0)) s"
}

build_kwok() {
  stamp_ok kwok "$KWOK_VERSION" && return 0
  log "building kwok $KWOK_VERSION"
  local t0=$SECONDS
  GOBIN=$BIN go install -trimpath -ldflags='-s -w' "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
  # kwok needs Stage objects; the defaults ship inside its module.
  local src; src=$(go env GOMODCACHE)/sigs.k8s.io/kwok@$KWOK_VERSION/kustomize/stage
  {
    for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
             pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
      echo "---"; cat "$src/$f"
    done
  } > "$BIN/kwok-stages.yaml"
  stamp kwok "$KWOK_VERSION"; log "kwok built in $((SECONDS-t0)) s"
}

case "$what" in
  helm) build_helm ;;
  controlplane) build_etcd; build_kwok; build_k8s ;;
  all) build_helm; build_etcd; build_kwok; build_k8s ;;
  *) echo "usage: $0 [helm|controlplane|all]" >&2; exit 2 ;;
esac
echo "$BIN"
