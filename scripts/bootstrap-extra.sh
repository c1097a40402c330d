#!/usr/bin/env bash
# Set-up for the hospital-integration tests (issue 8) beyond the venv: the loopback bind shim for
# Orthanc and the node FHIR test server. Idempotent; a second run does nothing and takes a second.
set -euo pipefail
cd "$(dirname "$0")/.."
SERVERS=Testing/Servers

# Orthanc 1.10 cannot be told which address to bind; the shim keeps it on 127.0.0.1.
shim=$SERVERS/build/loopback_bind.so
if [ ! -f "$shim" ] || [ "$SERVERS/loopback_bind.c" -nt "$shim" ]; then
  echo "bootstrap-extra: building $shim"
  mkdir -p "$SERVERS/build"
  cc -shared -fPIC -O2 -Wall -o "$shim" "$SERVERS/loopback_bind.c" -ldl
fi
# Debian's civetweb (Orthanc's web server) looks up an OpenSSL 1.1 name that OpenSSL 3 dropped; without
# this shim Orthanc crashes on its first HTTPS connection (the TLS test).
tls_shim=$SERVERS/build/civetweb_openssl3.so
if [ ! -f "$tls_shim" ] || [ "$SERVERS/civetweb_openssl3.c" -nt "$tls_shim" ]; then
  echo "bootstrap-extra: building $tls_shim"
  mkdir -p "$SERVERS/build"
  cc -shared -fPIC -O2 -Wall -o "$tls_shim" "$SERVERS/civetweb_openssl3.c" -ldl
fi

# @medplum/fhir-router 4.5.x needs node >= 20.19 (5.x needs 22.18, hence the pin).
node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  echo "bootstrap-extra: node >= 20.19 is needed for the FHIR test server (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi
fhir=$SERVERS/fhir
stamp=$fhir/node_modules/.package-lock.sha256
wanted=$(sha256sum "$fhir/package-lock.json" | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
  echo "bootstrap-extra: installing the FHIR test server's npm packages"
  (cd "$fhir" && npm ci --no-audit --no-fund --loglevel=error)
  echo "$wanted" > "$stamp"
fi
