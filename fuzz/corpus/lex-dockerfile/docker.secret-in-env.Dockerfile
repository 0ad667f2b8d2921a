FROM debian:12
# ruleid: docker.secret-in-env
ENV APP_ENV=prod API_TOKEN=ghx_0000exampletoken
# ruleid: docker.secret-in-env
ENV DB_PASSWORD hunter2
# ok: docker.secret-in-env
ENV APP_ENV=prod LOG_LEVEL=info
# ok: docker.secret-in-env
ENV API_TOKEN=$API_TOKEN
USER app
