# syntax=docker/dockerfile:1
# Build stage: install everything, compile TypeScript, build the web console (web/dist).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm install --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY web ./web
RUN npm run build && npm run build:web && npm prune --omit=dev

# Runtime stage: compiled code, production dependencies, migrations; runs as an unprivileged user.
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    DATA_DIR=/var/lib/switchboard \
    REDIS_AUTOSTART=false
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/web/dist ./web/dist
COPY package.json ./
COPY migrations ./migrations
RUN mkdir -p /var/lib/switchboard && chown node:node /var/lib/switchboard
USER node
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=3s CMD node -e "fetch('http://127.0.0.1:3000/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/server.js"]
