FROM debian:12
# ruleid: docker.add-remote-url
ADD https://example.com/tool.tar.gz /opt/
# ok: docker.add-remote-url
ADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d https://example.com/tool.tar.gz /opt/
# ok: docker.add-remote-url
ADD tool.tar.gz /opt/
USER app
