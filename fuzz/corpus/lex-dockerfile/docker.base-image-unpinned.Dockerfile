# ruleid: docker.base-image-unpinned
FROM ubuntu AS build
RUN make
# ruleid: docker.base-image-unpinned
FROM --platform=linux/amd64 node:latest
# ok: docker.base-image-unpinned
FROM debian:12.5-slim
# ok: docker.base-image-unpinned
FROM build
# ok: docker.base-image-unpinned
FROM registry.example.com:5000/team/app:1.4.2
# ok: docker.base-image-unpinned
FROM alpine@sha256:c5b1261d6d3e43071626931fc004f70149baeba2c8ec672bd4f27761f8e1ad6b
# ok: docker.base-image-unpinned
FROM scratch
USER app
