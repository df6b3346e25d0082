#!/usr/bin/env bash
# Stages what App Service runs (zip deploy, m365agents.yml): the bundle and production
# dependencies only, in ./deploy-stage. App Service starts it with `node dist/index.js`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash infra/build.sh
rm -rf deploy-stage && mkdir deploy-stage
cp -r dist package.json package-lock.json deploy-stage/
(cd deploy-stage && npm ci --omit=dev --ignore-scripts --no-audit --no-fund)
