# Brigade: one binary, one data folder.
#   docker build -t brigade .
#   docker run -p 8889:8889 -v brigade-data:/data brigade serve --bootstrap-org acme
#
# Multi-stage build. Dependencies are compiled in their own layer against a dummy crate, so
# a source edit rebuilds only Brigade itself; the layer is rebuilt only when Cargo.toml or
# Cargo.lock change.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
# Every target Cargo.toml names explicitly must exist for the manifest to load.
RUN mkdir -p src benches \
    && echo 'fn main() {}' > src/main.rs \
    && touch src/lib.rs \
    && echo 'fn main() {}' > benches/signature.rs \
    && cargo build --release --locked --bin brigade \
    && rm -rf src benches
COPY . .
# COPY keeps the context's mtimes, which can be older than the dummy build's artefacts.
RUN touch src/main.rs src/lib.rs \
    && cargo build --release --locked --bin brigade

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 brigade \
    && useradd --system --uid 10001 --gid brigade --home-dir /data --shell /usr/sbin/nologin brigade \
    && mkdir -p /data \
    && chown brigade:brigade /data \
    && chmod 0700 /data
COPY --from=build /src/target/release/brigade /usr/local/bin/brigade
# Numeric so orchestrators can verify runAsNonRoot; it is the `brigade` user created above.
USER 10001:10001
# Relative paths (config/brigade.toml) resolve inside the data volume.
WORKDIR /data
ENV BRIGADE_DATA_DIR=/data \
    BRIGADE_LISTEN=0.0.0.0:8889
VOLUME /data
EXPOSE 8889
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 CMD ["brigade", "healthcheck"]
ENTRYPOINT ["brigade"]
CMD ["serve"]
