# syntax=docker/dockerfile:1
# NAS Transfer Bot: production image. Build: docker build -t nas-transfer-bot .
# The bot is TypeScript run by tsx in development; here it is bundled to plain JavaScript by
# esbuild (infra/build.sh) so that the image needs neither tsx nor any dev dependency, nor dev/.

# ---- build: all dependencies, bundle to dist/ ----
FROM node:24-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json index.ts app.ts config.ts ./
COPY core ./core
COPY bot ./bot
COPY cards ./cards
COPY services ./services
COPY policy ./policy
COPY web ./web
COPY infra/build.sh ./infra/build.sh
RUN bash infra/build.sh

# ---- deps: production dependencies only ----
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: no install script runs in the production tree (none is needed at run time).
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# ---- runtime ----
FROM node:24-bookworm-slim AS runtime
# V8's heap, bounded (issue 23): left to itself under a burst of turns it grew the young generation to
# 128 MiB and the old to ~190 MiB of mostly garbage, 430-590 MiB resident per instance, while the live
# heap stays under 120 MiB. With these, the load bench's instances peak at ~240 MiB with no slower turns
# (bench/load.ts runs dist/ with this line). The same value is App Service's NODE_OPTIONS (infra/main.bicep).
ENV NODE_ENV=production \
    APP_ENV=production \
    HOST=0.0.0.0 \
    PORT=3978 \
    NODE_OPTIONS="--max-semi-space-size=16 --max-old-space-size=256"
WORKDIR /app
COPY --from=deps --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /src/dist ./dist
COPY --chown=root:root package.json ./
# The code is owned by root and read-only to the bot; it runs as the image's unprivileged "node" user.
USER node
EXPOSE 3978
# /healthz answers while the process is up (/readyz adds the database); node's fetch, no curl in the image.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3978)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# SIGTERM goes straight to node (no shell), so index.ts can finish in-flight turns and close the database.
CMD ["node", "dist/index.js"]
