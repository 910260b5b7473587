#!/usr/bin/env bash
# Build the single-file relay binary: dist/a2a-relay for this host; --all also cross-compiles.
# Bun comes from node_modules (npm ci), so nothing else needs to be installed.
set -euo pipefail
cd "$(dirname "$0")"
BUN="${BUN:-node_modules/.bin/bun}"
[ -x "$BUN" ] || { echo "compile.sh: $BUN not found; run npm ci first" >&2; exit 2; }
mkdir -p dist
build() { # target outfile
  local target=$1 out=$2
  local args=(build src/main.ts --compile --minify --sourcemap=none --bytecode --format=esm --outfile "$out")
  [ "$target" = host ] || args+=(--target "$target")
  "$BUN" "${args[@]}" >/dev/null
  echo "built $out ($(du -h "$out" | cut -f1))"
}
build host dist/a2a-relay
if [ "${1:-}" = "--all" ]; then
  for t in linux-x64 linux-arm64 darwin-x64 darwin-arm64 windows-x64; do
    ext=""; [ "$t" = windows-x64 ] && ext=".exe"
    if ! build "bun-$t" "dist/a2a-relay-$t$ext" 2>/tmp/a2a-relay-compile-$t.log; then
      echo "skipped $t: the $t Bun runtime could not be fetched on this machine (see /tmp/a2a-relay-compile-$t.log)" >&2
    fi
  done
fi
