#!/usr/bin/env bash
# Installs, from Debian's packages, what building the wasm and running the tests
# need when it is missing: a Rust toolchain with the wasm32 target (Debian's
# rustc + cargo + libstd-rust-dev-wasm32 install beside rustup's, and lld-14 for
# the rust-lld linker, which that package only recommends), binaryen's wasm-opt,
# Chromium for the browser tests, and python3 with venv; then a Python virtual
# environment with safetensors, numpy and torch (CPU) for the file-format and
# PyTorch tests.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
# --which compiles and links a tiny wasm, so a missing linker counts as missing too.
node scripts/build-wasm.mjs --which >/dev/null 2>&1 || missing+=(rustc cargo libstd-rust-dev-wasm32 lld-14)
command -v cargo >/dev/null 2>&1 || missing+=(cargo)
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
