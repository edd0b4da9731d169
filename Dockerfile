# The Gofer server as a container image, built around the single binary (dist/gofer), so the image needs
# nothing from Node.js: only glibc and the C++ runtime from the base image.
#
#   npm run build                       # writes dist/gofer
#   docker build -t gofer .
#
# Machines without registry access build a local base first and use it instead of debian:bookworm-slim:
#
#   bash images/build-runtime-base.sh   # imports gofer/runtime-base:latest
#   docker build --build-arg BASE_IMAGE=gofer/runtime-base:latest -t gofer .
#
# Gofer starts task and extension containers through the Docker Engine API, so the engine's socket must be
# mounted, and the server runs as root: access to that socket is root-equivalent anyway, and a non-root user
# would need the host's docker group id baked in.
#
#   docker run -d --name gofer -p 8080:8080 \
#     -v /var/run/docker.sock:/var/run/docker.sock -v gofer-data:/var/lib/gofer gofer
#
# Every setting can be given as a GOFER_WEB_* variable (-e GOFER_WEB_API__LOG_LEVEL=debug) or in a TOML file
# mounted at /etc/gofer/gofer_web.toml. Tasks and extensions reach the API at GOFER_WEB_SERVER__URL, which
# defaults to http://127.0.0.1:8080 here: set it to an address their containers can reach.
#
# The offline base has no shell, so this file must not use RUN. There is no HEALTHCHECK: neither base has an
# HTTP client to probe the API with.
ARG BASE_IMAGE=debian:bookworm-slim
FROM ${BASE_IMAGE}

COPY dist/gofer /usr/local/bin/gofer

ENV GOFER_WEB_SERVER__DATA_DIR=/var/lib/gofer \
    GOFER_WEB_SERVER__BIND_ADDRESS=0.0.0.0:8080 \
    GOFER_WEB_EXTERNAL_EVENTS__BIND_ADDRESS=0.0.0.0:8081
VOLUME /var/lib/gofer
EXPOSE 8080 8081

ENTRYPOINT ["gofer"]
CMD ["service", "start"]
