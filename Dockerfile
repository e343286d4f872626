# Multi-stage build: dependencies are compiled in their own layer so source edits rebuild
# only the crate itself.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
RUN mkdir -p src benches examples \
    && echo 'fn main() {}' > src/main.rs && touch src/lib.rs \
    && echo 'fn main() {}' > benches/signature.rs && echo 'fn main() {}' > examples/bench_http.rs \
    && cargo build --release --locked --bin brigade \
    && rm -rf src benches examples
COPY . .
RUN touch src/main.rs src/lib.rs && cargo build --release --locked --bin brigade

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /data --shell /usr/sbin/nologin brigade \
    && mkdir -p /data && chown brigade:brigade /data
COPY --from=build /src/target/release/brigade /usr/local/bin/brigade
USER brigade
ENV BRIGADE_DATA_DIR=/data \
    BRIGADE_LISTEN=0.0.0.0:8889
VOLUME /data
EXPOSE 8889
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 CMD ["brigade", "healthcheck"]
ENTRYPOINT ["brigade"]
CMD ["serve"]
