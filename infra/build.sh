#!/usr/bin/env bash
# Builds the production bundle into ./dist, as the Dockerfile and the Agents Toolkit deploy do:
#   dist/index.js            index.ts and everything it imports, bundled by esbuild (no type check:
#                            `npx tsc -p .` is the type check, in CI); npm packages stay external
#                            and are installed with `npm ci --omit=dev` beside it.
#   dist/migrations/*.sql    services/store/migrate.ts reads them from beside its code (__dirname).
#   dist/policy/             config.ts resolves the default POLICY_FILE beside its code.
#   dist/workspace/          the workspace page, written by web/workspace/build.ts; app.ts names it beside its code for bot/ to serve.
# dev/ is left out on purpose: index.ts loads it only outside production (external below).
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf dist
npx esbuild index.ts --bundle --platform=node --target=node24 --format=cjs --packages=external \
  '--external:./dev/*' --outfile=dist/index.js --log-level=warning
cp -r services/store/migrations dist/migrations
cp -r policy dist/policy
# The NAS Operations workspace page (Fluent UI web components, teams-js), bundled and minified: served from dist/workspace.
npx tsx web/workspace/build.ts dist/workspace
