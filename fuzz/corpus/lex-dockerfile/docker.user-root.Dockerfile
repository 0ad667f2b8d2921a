FROM debian:12
# ruleid: docker.user-root
USER root
RUN apt-get update
# ok: docker.user-root
USER app
