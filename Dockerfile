# syntax=docker/dockerfile:1
# SnapStore image: build with the dev dependencies (TypeScript), ship only dist/, views/,
# public/ (with the compiled browser scripts) and the production node_modules, run as the
# unprivileged `node` user.
#
#   docker build -t snapstore .
#   docker compose up --build        # with MySQL 8.4 and MinIO, see docker-compose.yml

# ---------------------------------------------------------------- build stage
FROM node:20-bookworm-slim AS build
WORKDIR /app
ENV npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false

# Dependencies first, so a code change does not reinstall them. better-sqlite3 and sharp
# fetch prebuilt binaries for linux x64/arm64 (glibc), so no compiler is needed.
COPY package.json package-lock.json ./
RUN npm ci

# `npm run build` compiles the server (src/ -> dist/) and the browser scripts
# (src/browser/ -> public/js/), so public/ is built here too.
COPY tsconfig*.json ./
COPY src ./src
COPY public ./public
RUN npm run build && npm prune --omit=dev

# -------------------------------------------------------------- runtime stage
FROM node:20-bookworm-slim
# MALLOC_ARENA_MAX, NODE_OPTIONS: see deploy/snapstore.service.
ENV NODE_ENV=production \
    MALLOC_ARENA_MAX=2 \
    NODE_OPTIONS=--max-semi-space-size=4 \
    HOST=0.0.0.0 \
    PORT=3000 \
    UPLOAD_DIR=/app/uploads \
    DATA_DIR=/app/data
WORKDIR /app

# Code and dependencies belong to root (read-only for the app); only uploads/ and data/
# are writable by `node` (uid 1000). Named volumes mounted there inherit that owner.
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/public ./public
COPY views ./views
RUN mkdir -p uploads data && chown node:node uploads data

USER node
EXPOSE 3000

# /healthz answers 200 while the process is alive (/readyz also checks MySQL and S3).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

# Same as `npm start` without its prestart build: the image is already built. Node is PID 1
# and handles SIGTERM itself (finishes uploads in flight, then exits).
CMD ["node", "--enable-source-maps", "dist/main.js"]
