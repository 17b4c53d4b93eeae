#!/usr/bin/env bash
# The programs the tests start for real, and the Debian packages that bring them: one list for `npm test` and
# `.ci/run`, so the two cannot drift.
#   scripts/prerequisites.sh --check     exit 1 with one line naming what is missing and how to install it
#   scripts/prerequisites.sh --install   apt-get install what is missing (root only), then check
#   scripts/prerequisites.sh --install-if-root   --install as root where apt-get exists, else --check (`npm test`)
set -euo pipefail

# program  package  why
prerequisites=(
  "redis-server redis-server the balancer's store, also as a TLS Redis Cluster"
  "turnserver coturn the rendered TURN config, started as its pod starts it"
  "janus janus the rendered Janus config, started as its pod starts it"
  "curl curl the media pods' address lookup and drain hooks, run as the pods run them"
  "jq jq the bridges' drain hook (the jvb image's jq)"
  "setpriv util-linux a container's user, capabilities and no-new-privileges, as its pod sets them"
  "openssl openssl a throwaway CA for the Redis TLS tests, and the TURN host's certificate in the coturn pod test"
  "setcap libcap2-bin the file capability coturn's image puts on turnserver, set on a copy for the coturn pod test"
  "podman podman building the images and running them as their pods run them"
  "runc runc the OCI runtime podman runs those containers with"
  "debootstrap debootstrap the stand-ins for the pinned Debian and Node base images"
  "named bind9 an authoritative DNS server with a TSIG key, for RFC 2136 (DNS-01) tests"
  "nsupdate bind9-dnsutils RFC 2136 updates against that server"
  "dig bind9-dnsutils queries against that server"
  "pebble pebble a local ACME CA that validates DNS-01 against that server, for the wildcard certificate test"
  "lego lego the ACME client library traefik is built on, ordering that certificate with the issuer's RFC2136 values"
  "nginx nginx the BBB node's HTTPS location in front of the CPU-load agent"
  "ruby ruby the post-publish script BBB's publish worker runs with ruby on a node, run the same way"
  "chromium chromium the operator console's browser tests (headless, driven by playwright-core)"
  "prometheus-redis-exporter prometheus-redis-exporter the Redis metrics sidecar, started as its container starts it"
)

missing_packages() {
  local entry program package
  for entry in "${prerequisites[@]}"; do
    read -r program package _ <<<"$entry"
    command -v "$program" >/dev/null 2>&1 || printf '%s %s\n' "$program" "$package"
  done
}

report_missing() {
  local missing programs packages
  missing=$(missing_packages)
  [ -z "$missing" ] && return 0
  programs=$(cut -d' ' -f1 <<<"$missing" | paste -sd' ' -)
  packages=$(cut -d' ' -f2 <<<"$missing" | sort -u | paste -sd' ' -)
  echo "The tests need programs that are not on PATH: ${programs}. Install them with: sudo apt-get install -y ${packages}" >&2
  return 1
}

case "${1:---check}" in
  --check)
    report_missing
    ;;
  --install)
    packages=$(missing_packages | cut -d' ' -f2 | sort -u | paste -sd' ' -)
    if [ -n "$packages" ]; then
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq
      # shellcheck disable=SC2086 # one word per package
      apt-get install -y -qq --no-install-recommends $packages >/dev/null
    fi
    report_missing
    ;;
  --install-if-root)
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then exec "$0" --install; fi
    report_missing
    ;;
  *)
    echo "usage: scripts/prerequisites.sh [--check | --install | --install-if-root]" >&2
    exit 2
    ;;
esac
