#!/usr/bin/env bash
# The test command: installs missing system tools, builds the bundle, runs the
# vitest suite (Node, Deno and headless Chromium) and the Rust kernels' tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-tools.sh
[ -d node_modules ] || npm ci
npx tsc -p .
npx tsup --silent
npx vitest run
cargo test --release --quiet
