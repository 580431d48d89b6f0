# Multi-stage build: compile with dev dependencies, ship only what runs.
# One image for every app; docker-compose.yml picks the command per service.
FROM node:22-bookworm-slim AS build
WORKDIR /app
# npm 11 honours package.json "allowScripts" (only the packages we approved run install scripts).
RUN npm install -g npm@11
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY apps apps
COPY libs libs
COPY scripts scripts
# The service console (built into dist/console, served by fault-feedback at /console).
COPY console console
RUN npm run build \
 # Containers use DATABASE_URL; the embedded PostgreSQL binaries (optional dependencies) stay out.
 && npm prune --omit=dev --omit=optional

FROM node:22-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=root:root /app/package.json ./
COPY --from=build --chown=root:root /app/node_modules node_modules
COPY --from=build --chown=root:root /app/dist dist
COPY --chown=root:root config config
# The one folder the app writes (firmware images, a volume in docker-compose.yml); a new volume takes its owner from here.
RUN mkdir -p /app/data/firmware && chown node:node /app/data/firmware
# Runs unprivileged; the code and config are root-owned and read-only to it.
USER node
EXPOSE 1883 8883 3000 3001 3002
CMD ["node", "dist/apps/provisioning/src/main.js"]
