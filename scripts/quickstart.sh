#!/usr/bin/env bash
# Quick start on a fresh Debian 12 machine, as root, from a clone of this repository:
# installs system packages and npm dependencies (which builds egw), starts a 3-node lab, applies
# examples/quickstart.yaml (a shared egress gateway with two replicas, one pod that uses it and
# one that does not) and shows the source IP the external whoami service sees for each.
# Run it again at any time: a running lab is reused. Remove everything with: bin/egw down
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $(id -u) -ne 0 ]]; then
  echo "quickstart: run as root (the lab uses network namespaces)" >&2
  exit 1
fi

scripts/install-system-deps.sh
npm ci --no-audit --no-fund
bin/egw up
bin/egw apply -f examples/quickstart.yaml

# Polls "$@" until it prints something matching $1, for up to 90 s.
wait_for() {
  local pattern=$1 what=$2
  shift 2
  local out=""
  for _ in $(seq 180); do
    out=$("$@" 2>/dev/null || true)
    if [[ $out =~ $pattern ]]; then
      printf '%s\n' "$out"
      return 0
    fi
    sleep 0.5
  done
  echo "quickstart: timed out waiting for $what (last: ${out:-nothing})" >&2
  return 1
}

echo
echo "== the gateway: replicas, egress IPs, nodes"
wait_for '2/2 +Ready' "the gateway's replicas to be ready" bin/egw get egressgateways -n egress shared

echo
echo "== default/plain has no egress annotation: whoami sees its node's IP (node SNAT)"
wait_for '^172\.30\.0\.' "default/plain" bin/egw exec plain -- curl -s -m 3 http://198.18.10.10/

echo
echo "== demo/web selects the shared gateway: whoami sees one of the gateway's egress IPs"
wait_for '^10\.10\.0\.' "demo/web through the gateway" bin/egw exec -n demo web -- curl -s -m 3 http://198.18.10.10/

echo
echo "== why: egw describe pod -n demo web"
bin/egw describe pod -n demo web | sed -n '/^Egress:/,$p'

cat <<'TXT'

next:
  bin/egw lab firewall allow --host db 10.10.0.0/29        # only the gateway's IPs may reach db
  bin/egw exec -n demo web -- curl -s telnet://198.18.20.10:5432
  bin/egw exec plain -- curl -s -m 3 telnet://198.18.20.10:5432    # refused: node IP not allowed
  bin/egw lab firewall log
  docs/gateways.md for every deployment pattern; bin/egw down to remove the lab
TXT
