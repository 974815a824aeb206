# syntax=docker/dockerfile:1
# check=error=true

# Gatehouse: the gateway binary, static, on distroless. The image has no
# shell and no package manager; it runs as the nonroot user 65532.
#
#   docker build --build-arg VERSION="$(git describe --tags --always)" -t gatehouse .
#   docker run --rm -p 8080:8080 -v "$PWD/etc:/etc/gatehouse:ro" gatehouse
#
# See docs/kubernetes.md. deploy/dockerfile_test.go checks this file.

# A tag without a digest: Go 1.26's latest patch release on each build.
FROM golang:1.26 AS build
WORKDIR /src
# Modules first, as their own layer: it is rebuilt only when go.mod or
# go.sum change, not on every source edit.
COPY go.mod go.sum ./
RUN go mod download && go mod verify
COPY . .
# VERSION is what `gateway version` prints.
ARG VERSION=dev
# CGO_ENABLED=0: a static binary, so the run stage needs no libc.
# -trimpath and -s -w: no build paths, symbol table or DWARF in the image.
RUN --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/gateway ./cmd/gateway

# distroless/static: CA certificates, /etc/passwd with nonroot (65532),
# tzdata; nothing else.
FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION=dev
# An SPDX expression. The repository has no LICENSE file yet, so the
# default says so (SPDX "NOASSERTION") rather than guess one.
ARG LICENSE=NOASSERTION
LABEL org.opencontainers.image.title="gatehouse" \
      org.opencontainers.image.description="Gatehouse session gateway: verifies sessions, applies route policy and proxies to the app" \
      org.opencontainers.image.source="https://github.com/gatehouse/gatehouse" \
      org.opencontainers.image.licenses="${LICENSE}" \
      org.opencontainers.image.version="${VERSION}"
COPY --from=build /out/gateway /gateway
# Numeric, so Kubernetes' runAsNonRoot can verify it without /etc/passwd.
USER 65532:65532
# 8080: the public listener (server.listen). 9091: the admin listener with
# /healthz and /readyz; set admin.listen: ":9091" for probes from outside
# the container (its default is 127.0.0.1:9091).
EXPOSE 8080 9091
# No shell or curl in the image: the binary probes its own /readyz
# (http://127.0.0.1:9091/readyz, reachable with either admin.listen).
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["/gateway", "healthcheck"]
ENTRYPOINT ["/gateway"]
CMD ["serve", "--config", "/etc/gatehouse/gateway.yaml"]
