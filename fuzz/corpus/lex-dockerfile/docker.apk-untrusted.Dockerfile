FROM alpine:3.19
# ruleid: docker.apk-untrusted
RUN apk add --allow-untrusted /tmp/pkg.apk
# ok: docker.apk-untrusted
RUN apk add --no-cache curl
USER app
