# syntax=docker/dockerfile:1
# Top Songs: one small runtime image holding the `topsongs` binary and the
# built dashboard. Every role (api, ingest, scheduler, simulate, check) is a
# subcommand of the same image; see docker-compose.yaml.
#
# Checked statically by tests/integration/0007-docker-files.sh (no Docker
# engine runs on the project's CI machines).

# ---- build the binary -------------------------------------------------------
FROM debian:12 AS build
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
       build-essential pkg-config libmicrohttpd-dev librdkafka-dev libjansson-dev \
       libpq-dev libcurl4-openssl-dev libzstd-dev libsnappy-dev zlib1g-dev libssl-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY Makefile VERSION ./
COPY src ./src
RUN make -j"$(nproc)" build/topsongs

# ---- build the dashboard ----------------------------------------------------
# Vite 7 needs Node 20.19 or newer.
FROM node:20-bookworm-slim AS web
WORKDIR /web
COPY web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY web ./
RUN npm run build

# ---- runtime ------------------------------------------------------------------
FROM debian:12-slim AS runtime
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
       ca-certificates curl libmicrohttpd12 librdkafka1 libjansson4 libpq5 libcurl4 \
       libzstd1 libsnappy1v5 zlib1g libssl3 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /var/lib/topsongs --create-home topsongs \
    && install -d -o topsongs /var/lib/topsongs/api-journal
COPY --from=build /src/build/topsongs /usr/local/bin/topsongs
COPY --from=web /web/dist /usr/share/topsongs/web
USER topsongs
WORKDIR /var/lib/topsongs
# Inside a container the api must listen on every interface.
ENV TOPSONGS_API_LISTEN=0.0.0.0:8080 \
    TOPSONGS_API_WEB_DIR=/usr/share/topsongs/web \
    TOPSONGS_LOG_FORMAT=json
EXPOSE 8080 8081
ENTRYPOINT ["topsongs"]
CMD ["help"]
