#!/usr/bin/env bash
# The validators the deploy tests run (test/e2e/deploy.test.ts), no Docker engine or cluster needed:
# docker-compose (Debian's, for `docker-compose config`) and kubectl (for `kubectl kustomize`).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

apt_install() {
  log "installing $1 (apt)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq "$1" >/dev/null
}

command -v docker-compose >/dev/null || docker compose version >/dev/null 2>&1 || apt_install docker-compose
command -v kubectl >/dev/null || apt_install kubectl || die "kubectl is needed for the Kubernetes manifest test (kubectl kustomize); install it from your distribution or the Kubernetes packages"
