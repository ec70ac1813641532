# syntax=docker/dockerfile:1
# The CLI Proxy API server as a static binary on an empty image, run as a
# non-root user; config.yaml, the auth files (auth-dir ~/.cli-proxy-api,
# HOME being /data), the usage database and logs all live in the /data volume.
#
#   docker build -t cli-proxy-api --build-arg VERSION=$(git describe --tags --always --dirty) .
#   docker run -d -p 127.0.0.1:8317:8317 -v cpa-data:/data --name cpa cli-proxy-api
#   docker logs cpa      # the first start prints the new keys, once
#
# `make image` builds it with the version, commit and date of the checkout.

ARG GO_VERSION=1.26
# The build stage's image; `make image-test` swaps in one made from the
# machine's own Go where no registry can be reached.
ARG BUILDER_IMAGE=golang:${GO_VERSION}-bookworm

FROM ${BUILDER_IMAGE} AS build
WORKDIR /src
# Modules first: this layer is reused until go.mod or go.sum change. The Go
# SDK is a module of its own that go.mod replaces with ./clients/go.
COPY go.mod go.sum ./
COPY clients/go/go.mod clients/go/go.sum ./clients/go/
RUN go mod download
COPY . .
ARG VERSION=dev
ARG COMMIT=none
ARG DATE=unknown
# The Makefile's own build (static, CGO_ENABLED=0: the SQLite driver is pure
# Go), so the image's binary is built exactly as `make build` builds it.
RUN make build BIN=/out/cli-proxy-api VERSION="${VERSION}" COMMIT="${COMMIT}" DATE="${DATE}" \
 && mkdir -p /out/data

FROM scratch
# Root certificates for the upstream APIs.
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/cli-proxy-api /cli-proxy-api
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
ENV HOME=/data
WORKDIR /data
VOLUME /data
EXPOSE 8317
# No shell in the image: the binary checks itself (GET /healthz on the port
# of its config).
HEALTHCHECK --interval=30s --timeout=10s --start-period=10s --retries=3 \
  CMD ["/cli-proxy-api", "-config", "/data/config.yaml", "-healthcheck"]
# -init-remote: the first start creates /data/config.yaml with new keys
# (printed to the log once), listening on every interface of the container
# with remote management allowed: the published port is the boundary.
ENTRYPOINT ["/cli-proxy-api", "-config", "/data/config.yaml", "-init-remote"]
