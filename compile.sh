#!/usr/bin/env bash
# Build the single-file relay binary: dist/a2a-relay for this host; --all also cross-compiles;
# --deno builds dist/a2a-relay-deno with `deno compile` instead; --install [DIR] builds it and puts
# it in DIR (default ~/.local/bin) as a2a-relay, replacing an older one atomically (a running relay
# keeps its old file until it restarts).
# Bun comes from node_modules (npm ci), so nothing else needs to be installed.
set -euo pipefail
cd "$(dirname "$0")"
if [ "${1:-}" = "--deno" ]; then
  # dist/a2a-relay-deno with `deno compile` (pinned Deno from test/deno/install.sh). deno compile
  # needs the Deno runtime for compiling (denort), which it downloads from Deno's release server
  # unless DENORT_BIN names a local one of the same version; where neither works it exits 3 saying so.
  # The grants are fixed at compile time, so they cannot name the data dir chosen at run time.
  DENO=$(test/deno/install.sh)
  mkdir -p dist
  log=/tmp/a2a-relay-compile-deno.log
  if "$DENO" compile --quiet --output dist/a2a-relay-deno --unstable-no-legacy-abort --allow-net --allow-env \
    --allow-sys=hostname,uid,gid,userInfo --allow-read --allow-write --allow-run src/main.ts >"$log" 2>&1; then
    echo "built dist/a2a-relay-deno ($(du -h dist/a2a-relay-deno | cut -f1))"
    exit 0
  fi
  if grep -qiE "denort|dl\.deno\.land|error sending request" "$log"; then
    echo "compile.sh --deno: deno compile needs the Deno runtime for compiling (denort $("$DENO" --version | head -1 | cut -d' ' -f2)), which could not be fetched on this machine; run it where Deno's release downloads are reachable, or set DENORT_BIN to a local denort of that version (see $log)" >&2
    exit 3
  fi
  cat "$log" >&2
  exit 1
fi
BUN="${BUN:-node_modules/.bin/bun}"
[ -x "$BUN" ] || { echo "compile.sh: $BUN not found; run npm ci first" >&2; exit 2; }
mkdir -p dist
# Start-up (issue 8): --splitting puts what only some commands or profiles use (the client
# commands, forwarding/LLM/coding-CLI receivers) in chunks loaded by import() when needed, so
# `serve` reads and runs less before it listens; --compile-jit-policy raises the JIT's tier-up
# thresholds while the relay starts (code run once is not worth compiling); the relay sets the
# normal policy back once it is up (Runtime.started).
build() { # target outfile
  local target=$1 out=$2
  local args=(build src/main.ts --compile --minify --sourcemap=none --bytecode --format=esm --splitting
    --compile-jit-policy=8 --outfile "$out")
  [ "$target" = host ] || args+=(--target "$target")
  "$BUN" "${args[@]}" >/dev/null
  echo "built $out ($(du -h "$out" | cut -f1))"
}
build host dist/a2a-relay
if [ "${1:-}" = "--install" ]; then
  dir="${2:-$HOME/.local/bin}"
  mkdir -p "$dir" || { echo "compile.sh --install: cannot create $dir" >&2; exit 2; }
  tmp="$dir/.a2a-relay.$$"
  cp dist/a2a-relay "$tmp" && chmod 0755 "$tmp" && mv -f "$tmp" "$dir/a2a-relay" || {
    rm -f "$tmp"
    echo "compile.sh --install: cannot write $dir/a2a-relay (try sudo, or another directory)" >&2
    exit 2
  }
  echo "installed $dir/a2a-relay ($("$dir/a2a-relay" --version))"
  case ":$PATH:" in
  *":$dir:"*) ;;
  *) echo "note: $dir is not on PATH; add it: export PATH=\"$dir:\$PATH\"" >&2 ;;
  esac
  exit 0
fi
if [ "${1:-}" = "--all" ]; then
  for t in linux-x64 linux-arm64 darwin-x64 darwin-arm64 windows-x64; do
    ext=""; [ "$t" = windows-x64 ] && ext=".exe"
    if ! build "bun-$t" "dist/a2a-relay-$t$ext" 2>/tmp/a2a-relay-compile-$t.log; then
      echo "skipped $t: the $t Bun runtime could not be fetched on this machine (see /tmp/a2a-relay-compile-$t.log)" >&2
    fi
  done
fi
