#!/usr/bin/env bash
# Prints the path of the language benchmark tree (every file of ../shared/data/fixtures plus
# bench/gen-node-modules.py's node_modules of 20,000 packages), building it first if needed.
# The tree lives under $MOAT_BENCH_DIR (default /var/tmp/moat-bench).
set -euo pipefail
cd "$(dirname "$0")/.."
fs=${MOAT_BENCH_DIR:-/var/tmp/moat-bench}/tree
if [ ! -f "$fs/.complete" ]; then
  rm -rf "$fs"; mkdir -p "$fs"
  cp -r ../shared/data/fixtures "$fs/fixtures"
  python3 bench/gen-node-modules.py "$fs/node-app" 20000 >&2
  touch "$fs/.complete"
fi
echo "$fs"
