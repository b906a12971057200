# One image for every Trellis process: `docker run trellis gateway` (or TRELLIS_SERVICE=gateway); the
# services are users, catalog, orders, payments, sagas, gateway, web-bff, mobile-bff and identity.
# Node 24 LTS at the patch release the tests run on (scripts/runtime/node24's PINNED; a test keeps
# them equal). Pin the digest where you build: NODE_IMAGE=node:24.22.3-bookworm-slim@sha256:<digest>.
ARG NODE_IMAGE=node:24.22.3-bookworm-slim

# Build: every dependency (TypeScript among them), then `npm run build` into dist/.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# The kit is an npm workspace (shared/, the package @trellis/kit): its manifest before the install.
COPY shared/package.json ./shared/
# The planner patches (patches/, applied by postinstall) must be there before the install.
COPY patches ./patches
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY shared ./shared
COPY gateway ./gateway
COPY subgraphs ./subgraphs
COPY bff ./bff
RUN npm run build

# Production dependencies only (no tsx, no TypeScript, no jest).
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY shared/package.json ./shared/
COPY patches ./patches
RUN npm ci --omit=dev --no-audit --no-fund

# Runtime: dist/ and production node_modules, as the unprivileged `node` user, under tini so
# SIGTERM reaches Node (which drains and logs `stopped`) and zombies are reaped.
FROM ${NODE_IMAGE} AS runtime
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=4000 \
    NODE_OPTIONS="--max-old-space-size=384 --enable-source-maps"
COPY --chown=root:root package.json package-lock.json ./
COPY --from=deps --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
# The kit the compiled code requires as @trellis/kit (node_modules/@trellis/kit links to shared/).
COPY --from=build --chown=root:root /app/shared/package.json ./shared/package.json
COPY --from=build --chown=root:root /app/shared/dist ./shared/dist
USER node
EXPOSE 4000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 4000) + '/health/ready').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "--", "node", "dist/scripts/service.js"]
CMD ["gateway"]
