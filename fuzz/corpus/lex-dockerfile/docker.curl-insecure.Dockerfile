FROM debian:12
# ruleid: docker.curl-insecure
RUN curl -k -o /tmp/a.tgz https://internal.example.com/a.tgz
# ok: docker.curl-insecure
RUN curl -fsSL -o /tmp/a.tgz https://internal.example.com/a.tgz
USER app
