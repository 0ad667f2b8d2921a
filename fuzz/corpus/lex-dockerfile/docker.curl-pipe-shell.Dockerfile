FROM debian:12
# ruleid: docker.curl-pipe-shell
RUN curl -fsSL https://deb.example.com/setup.sh | bash -
# ok: docker.curl-pipe-shell
RUN curl -fsSLo /tmp/setup.sh https://deb.example.com/setup.sh && sha256sum -c sums && sh /tmp/setup.sh
USER app
