# One image for every Trellis process; docker-compose picks the entry point per service.
FROM node:24-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY tsconfig.json ./
COPY shared ./shared
COPY gateway ./gateway
COPY subgraphs ./subgraphs
COPY bff ./bff
COPY scripts ./scripts
USER node
ENTRYPOINT ["node", "--import", "tsx"]
