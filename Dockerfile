# The bot and worker image. One image; the command picks the role:
#   docker run sandbot start     the bot: chat surfaces, /healthz and /metrics on HTTP_PORT
#   docker run sandbot worker    a sandbox worker: needs the Docker socket, /healthz and
#                                /metrics on METRICS_PORT
# Node 24 runs the TypeScript sources directly (type stripping): there is no build step.
#
# The base is the official Node image when a registry answers. Without one (CI, air-gapped
# hosts), make a local base first and select it:
#   bash .ci/images/bootstrap-node-base.sh      # -> sandbot-node-base:24
#   docker build --build-arg NODE_BASE=sandbot-node-base:24 -t sandbot .
# (docker-compose passes NODE_BASE from the environment or .env.) See docs/production.md.
ARG NODE_BASE=node:24-trixie-slim

FROM ${NODE_BASE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# Production dependencies only; the `node` package (a devDependency) is not needed because
# the base provides Node. Install scripts are skipped: the native add-ons they would build
# (msgpackr-extract, cpu-features, ssh2) are optional with JavaScript fallbacks, and a slim
# base has no compiler.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error

FROM ${NODE_BASE}
ENV NODE_ENV=production \
    HTTP_HOST=0.0.0.0 \
    HTTP_PORT=3000 \
    METRICS_PORT=9464
WORKDIR /app
# Least to most often changed, for the layer cache. Files stay root-owned: the process
# cannot modify its own code.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY adapters ./adapters
COPY src ./src

# uid 1000, present in the official image and in .ci/images/bootstrap-node-base.sh's. A worker
# reaches the Docker socket through its group (docker run --group-add, compose group_add).
USER node
EXPOSE 3000 9464
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["node", "bin/healthcheck.js"]
# No init here: run with --init (compose: init: true) so signals reach Node and zombies are
# reaped; sandbot drains and cleans up on SIGTERM.
ENTRYPOINT ["node", "bin/sandbot.js"]
CMD ["start"]
