FROM debian:12
# ruleid: docker.secret-in-arg
ARG NPM_TOKEN
# ok: docker.secret-in-arg
ARG VERSION=1.2.3
USER app
