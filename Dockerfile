# syntax=docker/dockerfile:1
#
# gpdoc as a static binary on a distroless base: no shell, no package
# manager, a non-root user, CA certificates and time-zone data only.
#
#   docker build -t gpdoc --build-arg VERSION=$(git describe --tags --always) \
#     --build-arg COMMIT=$(git rev-parse HEAD) --build-arg BUILD_DATE=$(date -u +%FT%TZ) .
#   docker run --rm -e CONNEQT_API_KEY -e GPDOC_LEDGER -v /srv/backlog:/data:ro \
#     gpdoc backfill /data/backlog.jsonl
#
# See docs/scale-out.md for running N workers on one PostgreSQL ledger.

ARG GO_VERSION=1.26

FROM golang:${GO_VERSION} AS build
WORKDIR /src
# Modules first, so that a change of source alone reuses this layer.
COPY go.mod go.sum ./
RUN go mod download && go mod verify
COPY . .
# .git is not in the build context (.dockerignore): the version, commit and
# build date `gpdoc version` prints come from these.
ARG VERSION=""
ARG COMMIT=""
ARG BUILD_DATE=""
# CGO_ENABLED=0: every dependency is pure Go (modernc.org/sqlite, pgx), so the
# binary is static and needs no libc at run time.
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath \
      -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT} -X main.buildDate=${BUILD_DATE}" \
      -o /out/gpdoc ./cmd/gpdoc \
 && /out/gpdoc version \
 && mkdir -p /out/work

# distroless/static: CA certificates (TLS to conneQt and PostgreSQL),
# /etc/passwd with the "nonroot" user (65532), tzdata; no shell.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/gpdoc /usr/local/bin/gpdoc
USER 65532:65532
# The working directory belongs to the run-time user, for an SQLite ledger or
# reports (mount a volume there to keep them); a fleet keeps its ledger in
# PostgreSQL instead (GPDOC_LEDGER).
COPY --from=build --chown=65532:65532 /out/work /work
WORKDIR /work
ENTRYPOINT ["/usr/local/bin/gpdoc"]
CMD ["--help"]
