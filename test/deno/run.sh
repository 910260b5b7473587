#!/usr/bin/env bash
# The Deno suite (npm run test:deno): install the pinned Deno, type-check the sources on Deno,
# test the runtime seam under `deno test`, then, with bun test as the driver, run against the relay
# on Deno (test/deno/a2a-relay-deno.sh, least-privilege flags): the SDK e2e checks, one real coding
# CLI (installed by test/clis/install.sh), fleet-wide budgets on PostgreSQL and the port-lock race test.
# Needs node_modules (npm ci): deno.json resolves npm packages from it.
set -euo pipefail
cd "$(dirname "$0")/../.."
DENO=$(test/deno/install.sh)
export DENO
BUN=${BUN:-node_modules/.bin/bun}
"$DENO" --version | head -1
"$DENO" task check
"$DENO" task test
bash test/clis/install.sh >/dev/null
"$BUN" test ./test/deno/e2e.denotest.ts ./test/deno/cli.denotest.ts
"$BUN" test --timeout 120000 ./test/deno/pg.denotest.ts   # the shared budget store (PostgreSQL)
export A2A_RELAY_BIN=test/deno/a2a-relay-deno.sh
"$BUN" test test/portlock/race.test.ts
# The compiled-binary e2e suite, once its harness (test/helpers/binary.ts) starts $A2A_RELAY_BIN.
if grep -q A2A_RELAY_BIN test/helpers/binary.ts; then
  A2A_RELAY_BIN=$PWD/test/deno/a2a-relay-deno.sh "$BUN" test test/e2e
fi
