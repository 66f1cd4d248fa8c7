# syntax=docker/dockerfile:1
# Pledge: one image for the API (default), the worker and the migration one-shot.
# TypeScript runs directly through tsx; there is no build step.

ARG NODE_IMAGE=node:20-bookworm-slim

# ---- dependencies: production only, install scripts run here (esbuild, @swc/core) ----
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
ENV NODE_ENV=production \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force

# ---- runtime ----
FROM ${NODE_IMAGE} AS runtime
WORKDIR /app
ENV NODE_ENV=production \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_FUND=false \
    NPM_CONFIG_AUDIT=false \
    PORT=3000 \
    PLEDGE_TIMEZONE=Asia/Shanghai
# Code and node_modules stay owned by root: the service user can read, not rewrite, them.
COPY --from=deps /app/node_modules ./node_modules
COPY . .
# The base image's unprivileged `node` user (uid/gid 1000), numeric so that
# runAsNonRoot-style checks can verify it without reading /etc/passwd.
USER 1000:1000
EXPOSE 3000
# Worker: `node --import tsx worker/main.ts`; migrations: `npx tsx db/migrate.ts` (see docker-compose.yml).
# node directly, not through npx: SIGTERM reaches the process whose handlers drain it.
CMD ["node", "--import", "tsx", "api/server.ts"]
