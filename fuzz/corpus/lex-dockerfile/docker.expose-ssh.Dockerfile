FROM debian:12
# ruleid: docker.expose-ssh
EXPOSE 80 22
# ok: docker.expose-ssh
EXPOSE 8080/tcp
USER app
