#!/usr/bin/env bash
# Install the pinned Deno (npm package `deno`, which ships the binary for this platform as an
# optional dependency) into .cache/deno, once, and print the path of the executable.
# Override with DENO=/path/to/deno to use another Deno.
set -euo pipefail
DENO_VERSION=2.9.6
cd "$(dirname "$0")/../.."
if [ -n "${DENO:-}" ]; then echo "$DENO"; exit 0; fi
dir=.cache/deno
# The platform package's executable itself: node_modules/.bin/deno is a Node wrapper when npm did
# not run deno's postinstall, and a wrapper would not pass kill -9 on to Deno.
bin=$dir/deno
if [ -x "$bin" ] && "$bin" --version 2>/dev/null | grep -q "^deno $DENO_VERSION "; then
  echo "$PWD/$bin"
  exit 0
fi
mkdir -p "$dir"
[ -f "$dir/package.json" ] || echo '{ "private": true }' > "$dir/package.json"
npm install --prefix "$dir" --no-save --no-audit --no-fund --loglevel=error "deno@$DENO_VERSION" >&2
exe=$(ls "$dir"/node_modules/@deno/*/deno 2>/dev/null | head -1 || true)
[ -n "$exe" ] || exe=$dir/node_modules/deno/deno
ln -sf "$PWD/$exe" "$bin"
"$bin" --version | grep -q "^deno $DENO_VERSION " || {
  echo "install.sh: deno $DENO_VERSION did not install (npm package deno@$DENO_VERSION, see above)" >&2
  exit 1
}
echo "$PWD/$bin"
