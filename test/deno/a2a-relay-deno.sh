#!/bin/sh
# An `a2a-relay` executable that runs the sources on Deno with the least-privilege flags that
# src/deno-permissions.ts computes for these arguments. Harnesses that start the relay
# from a path (A2A_RELAY_BIN=test/deno/a2a-relay-deno.sh) then test it on Deno. `exec`, so
# signals (kill -9 included) reach Deno itself. Deno: $DENO, else test/deno/install.sh's; its
# module cache: $DENO_DIR, else .cache/deno/dir.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DENO=${DENO:-$ROOT/.cache/deno/deno}
# one module cache for every start, whatever HOME the harness sets
DENO_DIR=${DENO_DIR:-$ROOT/.cache/deno/dir}
export DENO_DIR
[ -x "$DENO" ] || { echo "a2a-relay-deno.sh: $DENO not found; run test/deno/install.sh" >&2; exit 2; }
if [ "${1:-}" = "serve" ]; then
  flags=$(NO_COLOR=1 "$DENO" run --quiet --config "$ROOT/deno.json" --allow-env --allow-sys --allow-read \
    "$ROOT/src/deno-permissions.ts" "$@") || exit 2
else
  flags="--allow-all" # the other commands (config check, token, tasks, ...) are short-lived tools
fi
# shellcheck disable=SC2086 # the flags are one word each
exec "$DENO" run --config "$ROOT/deno.json" $flags "$ROOT/src/main.ts" "$@"
