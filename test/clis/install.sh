#!/usr/bin/env bash
# Install the pinned coding CLIs and agent frameworks (Google's ADK, Mastra, VoltAgent, Strands Agents, BeeAI, a2a-ai-provider) the real-software suite drives into .cache/clis (gitignored), outside the
# project's own dependencies. Skips the install when every pinned version is present. Prints the
# time and disk use, and checks that each CLI's binary actually runs.
set -euo pipefail
cd "$(dirname "$0")/../.."
PREFIX=.cache/clis
declare -A PINS=(
  [opencode-ai]=1.18.33
  [@anthropic-ai/claude-code]=2.1.332
  [@openai/codex]=0.169.0
  [@google/gemini-cli]=0.61.0
  [@google/gemini-cli-a2a-server]=0.25.2
  [@google/adk]=2.0.0
  [express]=5.1.0
  [@mastra/client-js]=1.47.0
  [@mastra/core]=1.71.0
  [@mastra/hono]=1.7.9
  [@mastra/server]=1.67.0
  [@mastra/memory]=1.31.0
  [@voltagent/core]=2.10.0
  [@voltagent/a2a-server]=2.0.3
  [@voltagent/server-hono]=2.0.14
  [@voltagent/logger]=2.0.2
  [ai]=6.0.333
  [@ai-sdk/provider-utils]=4.0.67
  [a2a-ai-provider]=0.5.0-alpha.1
)
mkdir -p "$PREFIX"
# npm 11 reviews install scripts (opencode and codex pick their platform binary at install): these
# four are allowed explicitly.
cat >"$PREFIX/package.json" <<'JSON'
{
  "name": "a2a-relay-test-clis",
  "private": true,
  "dependencies": {
    "opencode-ai": "1.18.33",
    "@anthropic-ai/claude-code": "2.1.332",
    "@openai/codex": "0.169.0",
    "@google/gemini-cli": "0.61.0",
    "@google/gemini-cli-a2a-server": "0.25.2",
    "@google/adk": "2.0.0",
    "express": "5.1.0",
    "@mastra/client-js": "1.47.0",
    "@mastra/core": "1.71.0",
    "@mastra/hono": "1.7.9",
    "@mastra/server": "1.67.0",
    "@mastra/memory": "1.31.0",
    "@voltagent/core": "2.10.0",
    "@voltagent/a2a-server": "2.0.3",
    "@voltagent/server-hono": "2.0.14",
    "@voltagent/logger": "2.0.2",
    "ai": "6.0.333",
    "@ai-sdk/provider-utils": "4.0.67",
    "a2a-ai-provider": "0.5.0-alpha.1"
  },
  "allowScripts": {
    "opencode-ai": true,
    "@anthropic-ai/claude-code": true,
    "@openai/codex": true,
    "@google/gemini-cli": true,
    "@google/gemini-cli-a2a-server": false,
    "@google/adk": false,
    "@mastra/client-js": false,
    "@mastra/core": false,
    "@mastra/hono": false,
    "@mastra/server": false,
    "@mastra/memory": false,
    "@voltagent/core": false,
    "@voltagent/a2a-server": false,
    "@voltagent/server-hono": false,
    "@voltagent/logger": false,
    "ai": false,
    "@ai-sdk/provider-utils": false,
    "a2a-ai-provider": false
  }
}
JSON

installed_version() {
  node -e 'try{process.stdout.write(require(process.argv[1]).version)}catch{}' \
    "$PWD/$PREFIX/node_modules/$1/package.json" 2>/dev/null || true
}

need=0
for name in "${!PINS[@]}"; do
  [ "$(installed_version "$name")" = "${PINS[$name]}" ] || need=1
done

start=$(date +%s)
if [ $need = 1 ]; then
  echo "installing the pinned CLIs into $PREFIX"
  npm install --prefix "$PREFIX" --no-audit --no-fund 2>&1 | tail -20
fi
# Frameworks whose dependencies clash with the others' get a prefix each (PREFIX/NAME), installed
# when its main package is not at its pinned version: own_prefix NAME PACKAGE VERSION DEPS [npm flags]
own_prefix() {
  local dir=$PREFIX/$1 pkg=$2 version=$3 deps=$4
  shift 4
  mkdir -p "$dir"
  printf '{"name":"a2a-relay-test-%s","private":true,"dependencies":%s}\n' "$(basename "$dir")" "$deps" >"$dir/package.json"
  if [ "$(PREFIX=$dir installed_version "$pkg")" != "$version" ]; then
    echo "installing $pkg $version into $dir"
    npm install --prefix "$dir" --no-audit --no-fund "$@" 2>&1 | tail -20
  fi
}
# AWS's Strands Agents SDK (its A2A server and client, the SDK's 0.3 release under both, openai for
# its model) wants zod 4 as a peer where Mastra's client wants zod 3
STRANDS_PREFIX=$PREFIX/strands
own_prefix strands @strands-agents/sdk 1.19.0 \
  '{"@strands-agents/sdk":"1.19.0","openai":"6.49.0","@a2a-js/sdk":"0.3.14","express":"5.1.0","zod":"4.6.7"}'
# the BeeAI Framework (its A2A server and client on the SDK's 0.3 release, the AI SDK's OpenAI
# provider for its model); its optional peers (LangChain's) conflict among themselves, hence
# --legacy-peer-deps, with the peers it needs here listed
BEEAI_PREFIX=$PREFIX/beeai
own_prefix beeai beeai-framework 0.1.30 \
  '{"beeai-framework":"0.1.30","@a2a-js/sdk":"0.3.14","express":"5.1.0","@ai-sdk/openai":"3.0.141","zod":"3.25.76"}' \
  --legacy-peer-deps
echo "install time: $(($(date +%s) - start)) s; disk use: $(du -sh "$PREFIX" | cut -f1)"

BIN=$PREFIX/node_modules/.bin
fail=0
for exe in opencode claude codex gemini; do
  if out=$(timeout 60 "$BIN/$exe" --version </dev/null 2>&1); then
    echo "$exe: $(echo "$out" | tail -1)"
  else
    echo "$exe: does not run: $(echo "$out" | tail -3)" >&2
    fail=1
  fi
done
# Google's Agent Development Kit (an A2A server and client in one library; express for its server)
ADK=$PREFIX/node_modules/@google/adk/dist/esm/index.js
if [ -f "$ADK" ]; then echo "adk: $(installed_version @google/adk)"; else echo "adk: $ADK is missing" >&2; fail=1; fi
STRANDS=$STRANDS_PREFIX/node_modules/@strands-agents/sdk/dist/src/a2a/index.js
if [ -f "$STRANDS" ]; then
  echo "strands: $(PREFIX=$STRANDS_PREFIX installed_version @strands-agents/sdk)"
else
  echo "strands: $STRANDS is missing" >&2
  fail=1
fi
BEEAI=$BEEAI_PREFIX/node_modules/beeai-framework/dist/adapters/a2a/serve/server.js
if [ -f "$BEEAI" ]; then
  echo "beeai: $(PREFIX=$BEEAI_PREFIX installed_version beeai-framework)"
else
  echo "beeai: $BEEAI is missing" >&2
  fail=1
fi
MASTRA=$PREFIX/node_modules/@mastra/client-js/dist/index.js
if [ -f "$MASTRA" ]; then echo "mastra client: $(installed_version @mastra/client-js)"; else echo "mastra client: $MASTRA is missing" >&2; fail=1; fi
# Mastra's A2A server: an agent of @mastra/core served by its Hono adapter (@mastra/server's handlers)
MASTRA_SERVER=$PREFIX/node_modules/@mastra/hono/dist/index.js
if [ -f "$MASTRA_SERVER" ]; then echo "mastra server: core $(installed_version @mastra/core), hono adapter $(installed_version @mastra/hono)"; else echo "mastra server: $MASTRA_SERVER is missing" >&2; fail=1; fi
# VoltAgent's A2A server (its core's peers: ai, @ai-sdk/provider-utils, its logger)
VOLT=$PREFIX/node_modules/@voltagent/a2a-server/dist/index.mjs
if [ -f "$VOLT" ]; then echo "voltagent: core $(installed_version @voltagent/core), a2a-server $(installed_version @voltagent/a2a-server)"; else echo "voltagent: $VOLT is missing" >&2; fail=1; fi
# a2a-ai-provider: the AI SDK's generateText/streamText with an A2A agent as the model
AAP=$PREFIX/node_modules/a2a-ai-provider/dist/index.js
if [ -f "$AAP" ]; then echo "a2a-ai-provider: $(installed_version a2a-ai-provider)"; else echo "a2a-ai-provider: $AAP is missing" >&2; fail=1; fi
# the Gemini CLI's A2A server has no --version: its bundled entry must be there
A2A_SERVER=$PREFIX/node_modules/@google/gemini-cli-a2a-server/dist/a2a-server.mjs
if [ -f "$A2A_SERVER" ]; then
  echo "gemini-cli-a2a-server: $(installed_version @google/gemini-cli-a2a-server)"
else
  echo "gemini-cli-a2a-server: $A2A_SERVER is missing" >&2
  fail=1
fi
exit $fail
