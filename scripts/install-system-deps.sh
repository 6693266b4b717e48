#!/usr/bin/env bash
# Installs the Debian packages egw and its tests use, only those missing. Needs root.
set -euo pipefail
declare -A pkg_for=(
  [etcd]=etcd-server [etcdctl]=etcd-client [nft]=nftables [ip]=iproute2 [bridge]=iproute2
  [conntrack]=conntrack [ping]=iputils-ping [socat]=socat [iperf3]=iperf3 [curl]=curl
  [ulogd]=ulogd2 [sysctl]=procps [bird]=bird2 [birdc]=bird2
)
missing=()
for cmd in "${!pkg_for[@]}"; do
  PATH="$PATH:/usr/sbin:/sbin" command -v "$cmd" >/dev/null 2>&1 || missing+=("${pkg_for[$cmd]}")
done
# The lab firewall log needs ulogd's JSON output plugin (no command of its own).
compgen -G "/usr/lib/*/ulogd/ulogd_output_JSON.so" >/dev/null || compgen -G "/usr/lib/ulogd/ulogd_output_JSON.so" >/dev/null ||
  missing+=(ulogd2-json)
if ((${#missing[@]})); then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # bird2 enables (and, where policy-rc.d allows, starts) a system-wide BIRD in the root namespace.
  # egw's tests run their own BIRD with their own config in scratch namespaces; a routing daemon
  # of the host's own is not wanted, so it is stopped and disabled again.
  if printf '%s\n' "${missing[@]}" | grep -qx bird2; then
    if [[ -d /run/systemd/system ]]; then
      systemctl disable --now bird.service >/dev/null 2>&1 || true
    else
      command -v invoke-rc.d >/dev/null && invoke-rc.d bird stop >/dev/null 2>&1 || true
      command -v systemctl >/dev/null && systemctl disable bird.service >/dev/null 2>&1 || true
    fi
  fi
fi
