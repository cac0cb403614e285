#!/usr/bin/env bash
# Installs the system tools the test suite runs for real: redis-server (Debian bookworm, RDB 10),
# valkey-server (bookworm-backports, RDB 11), cfn-lint and moto_server (Python).
# Idempotent: skips whatever is already present.
set -euo pipefail

SUDO=""
if [[ $(id -u) -ne 0 ]] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi

need_apt=()
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
if ((${#need_apt[@]})) || ! command -v valkey-server >/dev/null 2>&1; then
  $SUDO apt-get update -qq
fi
if ((${#need_apt[@]})); then
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if ! command -v valkey-server >/dev/null 2>&1; then
  # Derive the backports suite from the machine's own Debian stanza (same mirror URIs).
  src=/etc/apt/sources.list.d/debian.sources
  if [[ -f $src ]] && ! grep -q 'bookworm-backports' "$src" /etc/apt/sources.list.d/*.sources 2>/dev/null; then
    uri=$(awk '/^URIs:/ {print $2; exit}' "$src")
    keyring=$(awk '/^Signed-By:/ {print $2; exit}' "$src")
    printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: %s\n' "$uri" "$keyring" |
      $SUDO tee /etc/apt/sources.list.d/bookworm-backports.sources >/dev/null
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq -t bookworm-backports valkey-server >/dev/null
fi

# Debian starts the packaged services; the tests start their own servers on loopback ports.
for svc in redis-server valkey-server; do
  (command -v systemctl >/dev/null 2>&1 && $SUDO systemctl stop "$svc" >/dev/null 2>&1) || true
  (command -v service >/dev/null 2>&1 && $SUDO service "$svc" stop >/dev/null 2>&1) || true
done

if ! command -v cfn-lint >/dev/null 2>&1 || ! command -v moto_server >/dev/null 2>&1; then
  python3 -m pip install -q 'cfn-lint>=1' 'moto[server]>=5'
fi

echo "test tools: $(redis-server --version | awk '{print $3}') / $(valkey-server --version | awk '{print $3}') / cfn-lint $(cfn-lint --version 2>&1 | awk '{print $2}') / moto_server present"
