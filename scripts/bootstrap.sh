#!/usr/bin/env bash
# Sets up a fresh machine for SurgicalAIPlanner: Debian packages the tests and offscreen rendering
# need (only those missing), a .venv with the pinned Python dependencies, and the Lib in editable mode.
# Idempotent: a second run installs nothing and takes a few seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(libegl1 libegl-mesa0 libgl1-mesa-dri libglu1-mesa libxrender1 libxt6 libgomp1)
DEBIAN_PACKAGES+=($(cat scripts/debian-packages.txt 2>/dev/null | grep -v '^#' || true))

missing=()
for package in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
  echo "bootstrap: installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "bootstrap: creating .venv"
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.requirements.sha256
wanted=$(cat requirements.txt pyproject.toml | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ]; then
  echo "bootstrap: installing Python dependencies (pinned in requirements.txt)"
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -r requirements.txt
  .venv/bin/python -m pip install -q --no-deps -e .
  echo "$wanted" > "$stamp"
fi
[ ! -f scripts/bootstrap-extra.sh ] || bash scripts/bootstrap-extra.sh
