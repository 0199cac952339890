#!/usr/bin/env bash
# portkey_setup.sh: installs @portkey-ai/gateway into $BENCH_HOME/portkey and patches it (idempotent;
# setup.sh calls it):
#  1) @portkey-ai/gateway 1.15.2 from npm, with @hono/node-server pinned to 1.14.2 (the recorded setup;
#     Portkey-AI/gateway#1389).  PORTKEY_HONO_NODE_SERVER='' leaves it to npm (it resolved 1.19.19).
#  2) On Node 20, stream=true and /v1/embeddings still fail with "TypeError: immutable" (HTTP 500), so
#     ResponseService.updateHeaders in build/start-server.js is wrapped in try/catch: the x-portkey-*
#     response headers are skipped when the headers are immutable.  The original is kept as .orig.
#  3) Install scripts are not run (--ignore-scripts): the package's postinstall is `patch-package`, and the
#     published package ships no patches/ folder.
set -euo pipefail
. "$(cd "$(dirname "$0")/.." && pwd)/lib.sh"
VERSION="${PORTKEY_VERSION:-1.15.2}"
HONO="${PORTKEY_HONO_NODE_SERVER-1.14.2}"
LOCK="$BENCH_DIR/peers/portkey-package-lock.json"   # used only for the default versions

command -v node >/dev/null && command -v npm >/dev/null || die "node and npm are needed (setup.sh installs them)"
mkdir -p "$PORTKEY_DIR"
cd "$PORTKEY_DIR"

installed() {  # installed PACKAGE -> its version in node_modules, or nothing
  node -e "try{console.log(require('./node_modules/$1/package.json').version)}catch(e){}" 2>/dev/null
}
patched() { [ -f "$PORTKEY_JS" ] && [ "$(grep -c '__uh(e,t,a)' "$PORTKEY_JS")" = 1 ]; }

STAMP="gateway=$VERSION node-server=${HONO:-npm}"   # what was asked for, kept in .bench-setup
if patched && [ "$(installed @portkey-ai/gateway)" = "$VERSION" ] && [ "$(cat .bench-setup 2>/dev/null)" = "$STAMP" ]; then
  echo "portkey: @portkey-ai/gateway $VERSION (node-server $(installed @hono/node-server)) already installed and patched"
  exit 0
fi
rm -f .bench-setup

# package.json: exact gateway version; the override forces the pinned @hono/node-server everywhere.
node -e "
const fs = require('fs');
const p = {name: 'aiport-bench-portkey', version: '1.0.0', private: true,
           dependencies: {'@portkey-ai/gateway': '$VERSION'}};
if ('$HONO') { p.dependencies['@hono/node-server'] = '$HONO'; p.overrides = {'@hono/node-server': '\$@hono/node-server'}; }
fs.writeFileSync('package.json', JSON.stringify(p, null, 2) + '\n');"

NPM_FLAGS=(--ignore-scripts --no-audit --no-fund --loglevel=error)
if [ "$VERSION" = 1.15.2 ] && [ "$HONO" = 1.14.2 ] && [ -f "$LOCK" ]; then
  cp "$LOCK" package-lock.json
  npm ci "${NPM_FLAGS[@]}" || { echo "portkey: npm ci failed; trying npm install" >&2; rm -f package-lock.json;
                                npm install "${NPM_FLAGS[@]}"; }
else
  rm -f package-lock.json
  npm install "${NPM_FLAGS[@]}"
fi

[ -f "$PORTKEY_JS" ] || die "portkey: $PORTKEY_DIR/$PORTKEY_JS missing after npm install"
if ! grep -q '__uh(e,t,a)' "$PORTKEY_JS"; then
  cp -f "$PORTKEY_JS" "$PORTKEY_JS.orig"
  sed -i 's/updateHeaders(e,t,a){return e.headers.append(/updateHeaders(e,t,a){try{return this.__uh(e,t,a)}catch(_x){return e}}__uh(e,t,a){return e.headers.append(/' "$PORTKEY_JS"
fi
patched || die "portkey: the updateHeaders try/catch patch did not apply to $VERSION (it matches 1.15.2's minified build)"
echo "$STAMP" >.bench-setup
echo "portkey: @portkey-ai/gateway $(installed @portkey-ai/gateway) (node-server $(installed @hono/node-server)," \
     "node $(node --version)) installed and patched"
