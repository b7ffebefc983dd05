#!/usr/bin/env bash
# Installs, from Debian's packages, what building the wasm and running the tests
# need when it is missing: Rust 1.96 from Debian 12's security archive (rustc-web
# and cargo-web replace the system rustc and cargo, rust-web-src brings the library
# sources with their crates vendored, from which build-wasm.mjs builds the wasm32
# standard library offline, and lld-22 the wasm linker, wasm-ld-22), binaryen's wasm-opt,
# Chromium for the browser tests, and python3 with venv; then a Python virtual
# environment with safetensors, numpy and torch (CPU) for the file-format and
# PyTorch tests.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
# --which checks the system rustc's version, its vendored library sources and a wasm linker.
node scripts/build-wasm.mjs --which >/dev/null 2>&1 || missing+=(rustc-web cargo-web rust-web-src lld-22)
command -v cargo >/dev/null 2>&1 || missing+=(cargo-web)
command -v wasm-opt >/dev/null 2>&1 || missing+=(binaryen)
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || missing+=(chromium)
# Debian's python3 makes virtual environments only with python3-venv (ensurepip).
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || missing+=(python3 python3-venv)

if [ ${#missing[@]} -gt 0 ]; then
  echo "installing from Debian: ${missing[*]}"
  if [ "$(id -u)" -eq 0 ]; then
    SUDO=
  elif command -v sudo >/dev/null 2>&1; then
    SUDO=sudo
  else
    echo "not root and no sudo: please run  apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
  node scripts/build-wasm.mjs --which
fi

# Local wheels on these machines; --retries 0 so an unreachable index fails at once
# instead of retrying for minutes.
if ! .venv/bin/python -c 'import safetensors, numpy, torch' >/dev/null 2>&1; then
  echo "creating .venv with safetensors, numpy and torch"
  [ -x .venv/bin/python ] || python3 -m venv .venv
  .venv/bin/pip install -q --retries 0 safetensors numpy torch
fi
