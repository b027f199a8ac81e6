# syntax=docker/dockerfile:1
# One image for every process of tour-import (workers, api, migrations, cli); the command picks one.
# It holds the product only: src/ and its settings, never tooling/ (simulator, server starters), soak/,
# bench/ or scripts/ (test/unit/deploy/image.test.ts reads what is copied).
# TypeScript runs through tsx, as in development. The workflow bundle is built here, so a worker
# loads it (WORKFLOW_BUNDLE_PATH) instead of webpacking its workflows on every start.

FROM node:20.19-bookworm-slim AS base
WORKDIR /app

FROM base AS deps
COPY package.json package-lock.json ./
# Runtime dependencies only: tsx, and the prebuilt native binaries of sharp and the Temporal core
# (linux x64 and arm64), so no compiler is needed.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM deps AS bundle
COPY tsconfig.json ./
COPY scripts/build-workflow-bundle.ts scripts/
COPY src src
RUN node --import tsx scripts/build-workflow-bundle.ts dist/workflow-bundle.js

FROM base AS runtime
ENV NODE_ENV=production \
    TOUR_IMPORT_DATA_DIR=/data \
    BLOB_DIR=/data/blobs \
    OPERATORS_FILE=/app/config/operators.yaml \
    WORKFLOW_BUNDLE_PATH=/app/dist/workflow-bundle.js
COPY --from=deps /app/node_modules node_modules
COPY package.json package-lock.json tsconfig.json ./
COPY src src
COPY config config
COPY --from=bundle /app/dist/workflow-bundle.js dist/workflow-bundle.js
# Blobs live on a volume; a new named volume takes this folder's owner when first mounted.
RUN mkdir -p /data/blobs && chown -R node:node /data
USER node
VOLUME ["/data"]
# `node --import tsx` is one process (the tsx CLI would add a parent), so SIGTERM reaches the worker,
# which drains in-flight tasks before it exits.
CMD ["node", "--import", "tsx", "src/workers/tour-import.ts"]
