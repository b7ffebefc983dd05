#!/usr/bin/env bash
# Installs, from Debian's packages, what building the wasm and running the tests
# need when it is missing: a Rust toolchain with the wasm32 target (Debian's
# rustc + cargo + libstd-rust-dev-wasm32 install beside rustup's), binaryen's
# wasm-opt, and Chromium for the browser test.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
node scripts/build-wasm.mjs --which >/dev/null 2>&1 || missing+=(rustc cargo libstd-rust-dev-wasm32)
command -v cargo >/dev/null 2>&1 || missing+=(cargo)
command -v wasm-opt >/dev/null 2>&1 || missing+=(binaryen)
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || missing+=(chromium)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
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
