#!/usr/bin/env bash
# The test command: installs missing system tools, builds the bundle, runs the
# vitest suite (Node, Deno and headless Chromium) and the Rust kernels' tests,
# then prints one closing line with the totals of both.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-tools.sh
[ -d node_modules ] || npm ci
npx tsc -p .
npx tsup --silent
npx tsc -p playground
log=$(mktemp -d)
status=0
npx vitest run 2>&1 | tee "$log/vitest.txt" || status=$?
cargo test --release -p latentkit-kernels --lib --tests 2>&1 | tee "$log/cargo.txt" || status=$?
strip() { sed 's/\x1b\[[0-9;]*m//g' "$1"; }
vp=$(strip "$log/vitest.txt" | grep -E '^\s*Tests\s' | grep -oE '[0-9]+ passed' | grep -oE '[0-9]+' || echo 0)
vf=$(strip "$log/vitest.txt" | grep -E '^\s*Tests\s' | grep -oE '[0-9]+ failed' | grep -oE '[0-9]+' || echo 0)
cp=$(awk '/^test result:/ { for (i = 1; i <= NF; i++) if ($(i+1) ~ /^passed/) s += $i } END { print s + 0 }' "$log/cargo.txt")
cf=$(awk '/^test result:/ { for (i = 1; i <= NF; i++) if ($(i+1) ~ /^failed/) s += $i } END { print s + 0 }' "$log/cargo.txt")
echo "vitest: ${vp:-0} passed, ${vf:-0} failed; cargo test: ${cp:-0} passed, ${cf:-0} failed"
echo "total: $(( ${vp:-0} + ${cp:-0} )) passed, $(( ${vf:-0} + ${cf:-0} )) failed"
exit $status
