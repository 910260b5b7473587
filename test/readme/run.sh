#!/usr/bin/env bash
# Drive the README as a new user would, on a fresh checkout of the committed tree: the Install
# block (npm ci, npx a2a-relay, ./compile.sh --install), the Quick start block (npm start on the
# embedded defaults) and the "From the command line" block, line by line, as written. The relay gets a free port through A2A_RELAY_PORT / A2A_RELAY_URL (the
# README's commands do not change) and an empty HOME. Run by `npm run test:readme` (and .ci/run).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/a2a-relay-readme-XXXXXX")
RELAY=""
cleanup() {
  local rc=$?
  # npm start runs bun in its own session: stop the whole group
  [ -n "$RELAY" ] && { kill -- "-$RELAY" 2>/dev/null; wait "$RELAY" 2>/dev/null || true; }
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT

# the ```sh block that follows a heading (the first one after it)
block() {
  awk -v h="$1" '
    $0 == h { found = 1; next }
    found && /^```sh$/ { inblock = 1; next }
    inblock && /^```$/ { exit }
    inblock { print }
  ' "$ROOT/README.md"
}

git clone -q "$ROOT" "$WORK/a2a-relay"
cd "$WORK/a2a-relay"
# npm keeps the caller's package cache (the packages .ci/run's own `npm ci` just fetched) and
# prefers it, with retries for what it must fetch: what is tested is the README's commands, not
# the registry's connection (a reset mid-download failed a CI run)
export npm_config_cache="${npm_config_cache:-$HOME/.npm}" npm_config_prefer_offline=true npm_config_fetch_retries=5
export HOME="$WORK/home" A2A_RELAY_LOCK_DIR="$WORK/locks" npm_config_update_notifier=false
mkdir -p "$HOME"
PORT=$(node -e 's=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
export A2A_RELAY_PORT=$PORT A2A_RELAY_URL=http://127.0.0.1:$PORT

# run a block line by line, as written; `npm start` goes to the background until the relay answers
run_block() {
  local title=$1 body
  body=$(block "$title")
  [ -n "$body" ] || { echo "README: no sh block under '$title'" >&2; exit 1; }
  echo "== $title"
  while IFS= read -r line; do
    cmd=${line%%#*}
    [ -z "${cmd// /}" ] && continue
    echo "\$ $line"
    if [[ "$cmd" =~ ^npm\ start ]]; then
      setsid npm start >"$WORK/relay.log" 2>&1 &
      RELAY=$!
      for _ in $(seq 1 300); do
        curl -sf "$A2A_RELAY_URL/healthz" >/dev/null && break
        sleep 0.1
      done
      curl -sf "$A2A_RELAY_URL/healthz" >/dev/null || { cat "$WORK/relay.log"; exit 1; }
    elif [[ "$cmd" =~ ^npm\ ci ]] && [ -d node_modules ]; then
      echo "(node_modules already installed by the block before)"
    else
      bash -c "$cmd"
    fi
  done <<<"$body"
}

run_block "## Install"
"$HOME/.local/bin/a2a-relay" --version   # ./compile.sh --install put it there
run_block "## Quick start"

echo "== From the command line"
CLI=$(block "### From the command line")
[ -n "$CLI" ] || { echo "README: no sh block under '### From the command line'" >&2; exit 1; }
echo "$CLI" >"$WORK/cli.sh"
bash -euo pipefail -x "$WORK/cli.sh"
echo "README lines ran as written"
