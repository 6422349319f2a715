# syntax=docker/dockerfile:1
# tekton-gateway image: `node dist/main.js serve` on Node 22 LTS, distroless, non-root, read-only-root
# friendly. Build: docker build --build-arg VERSION=$(node -p 'require("./package.json").version') \
#   --build-arg REVISION=$(git rev-parse HEAD) -t tekton-gateway .
# Pin the base images by digest in release builds (e.g. node:22-bookworm-slim@sha256:…).
ARG NODE_IMAGE=node:22-bookworm-slim
ARG RUNTIME_IMAGE=gcr.io/distroless/nodejs22-debian12:nonroot

# Compile TypeScript with every dependency, dev ones included.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# Production dependencies only, without install scripts (none of ours needs one).
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npm cache clean --force

# Runtime: no shell, no npm; the image's entrypoint is node, so node itself is PID 1 and gets SIGTERM,
# which the gateway handles (drain, then exit).
FROM ${RUNTIME_IMAGE}
ARG VERSION=dev
ARG REVISION=unknown
ARG SOURCE=https://github.com/tekton-gateway/tekton-gateway
LABEL org.opencontainers.image.title="tekton-gateway" \
      org.opencontainers.image.description="One stateless webhook gateway for Tekton: routes.yaml maps Git webhooks to PipelineRuns and TaskRuns." \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE}"
WORKDIR /app
ENV NODE_ENV=production
# package.json says "type": "module": without it Node would read dist/*.js as CommonJS.
COPY package.json ./
COPY --from=prod-deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# Numeric, so Kubernetes' runAsNonRoot can verify it; 65532 is distroless's nonroot user.
USER 65532:65532
# 8080: webhooks, /healthz, /readyz. 9090: admin (/metrics, /routes, /healthz, /readyz).
EXPOSE 8080 9090
CMD ["dist/main.js", "serve"]
