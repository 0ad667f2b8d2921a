# ok: docker.no-user
FROM debian:12
RUN useradd -r app
USER app
