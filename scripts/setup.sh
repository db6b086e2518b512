#!/usr/bin/env bash
# Installs what casesync needs on a fresh Debian machine, skipping what is already there:
# Java and Maven (for the Kafka broker), PostgreSQL, a C compiler and OpenSSL's headers (for the
# compiled case event decoders and signature check), the virtualenv and the Kafka jars.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v java >/dev/null || missing+=(openjdk-17-jre-headless)
command -v mvn >/dev/null || missing+=(maven)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
command -v cc >/dev/null || missing+=(gcc)
[ -f /usr/include/openssl/sha.h ] || missing+=(libssl-dev)  # SHA-256 for the compiled batch-mate check
command -v promtool >/dev/null || missing+=(prometheus)  # promtool tests the alert rules
command -v openssl >/dev/null || missing+=(openssl)  # cross-checks the SM2 suite in tests
# The console's browser tests and screenshots: Chromium, and a font with Chinese characters.
command -v chromium >/dev/null || missing+=(chromium)
fc-list 2>/dev/null | grep -qi 'wenquanyi\|noto.*cjk' || missing+=(fonts-wqy-microhei)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "casesync setup: please install: ${missing[*]} (sudo apt-get install -y ${missing[*]})" >&2
    exit 2
  fi
  echo "installing Debian packages: ${missing[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
  if [[ " ${missing[*]} " == *" prometheus "* ]]; then
    # Only promtool is wanted: the package's own server must not keep running on :9090.
    systemctl disable --now prometheus prometheus-node-exporter 2>/dev/null || true
  fi
fi

stamp=.venv/.installed
if [ ! -x .venv/bin/python ]; then
  echo "creating .venv"
  python3 -m venv .venv
fi
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  echo "installing Python packages into .venv"
  .venv/bin/pip install -q -e '.[dev]'
  touch "$stamp"
fi

infra/kafka/fetch.sh

# Compiled decoders for the bundled schemas and the compiled batch-mate check of signatures
# (seconds, once; a no-op when they are current).
.venv/bin/python -m casesync.contract._native
.venv/bin/python -m casesync.trust._native
