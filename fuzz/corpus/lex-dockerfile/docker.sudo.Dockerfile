FROM debian:12
# ruleid: docker.sudo
RUN sudo apt-get install -y curl
# ok: docker.sudo
RUN apt-get install -y curl
USER app
