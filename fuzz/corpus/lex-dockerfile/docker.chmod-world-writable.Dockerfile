FROM debian:12
# ruleid: docker.chmod-world-writable
RUN chmod -R 777 /app
# ok: docker.chmod-world-writable
RUN chmod 755 /app/run.sh
USER app
