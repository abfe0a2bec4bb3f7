# warren's container image: the compiled build on Node 20, run as the image's unprivileged
# `node` user. Build: docker build -t warren . (see docs/kubernetes.md)

# Stage 1: install everything, compile TypeScript to dist/, then drop the dev dependencies.
FROM node:20-bookworm-slim AS build
# better-sqlite3 compiles from source where no prebuilt binary fits.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY src ./src
COPY packages/leakguard/package.json packages/leakguard/tsconfig.json ./packages/leakguard/
COPY packages/leakguard/src ./packages/leakguard/src
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# Stage 2: only what runs: package.json, the pruned node_modules, dist/ and the bin.
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    WARREN_LISTEN=0.0.0.0:8080 \
    WARREN_DATA_DIR=/var/lib/warren
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
COPY config/warren.example.yml ./config/warren.example.yml
RUN mkdir -p /var/lib/warren && chown node:node /var/lib/warren && chmod 700 /var/lib/warren
USER node
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["node", "--max-semi-space-size=2", "--heap-growing-percent=50", "bin/warren.mjs", "serve"]
