# audjust-mock in a container: `make image` builds it, `make image-test` checks it.
#
# The wheels come from the host (`make wheels`: `pip wheel` into build/wheels), so the build needs
# no network and no certificate bundle: nothing here downloads anything. The final stage is the
# base image plus one virtual environment; no pip, compiler or build tool is added to it.
#
# BASE defaults to the official slim Python image. Where no registry can be reached, `make image`
# passes a Debian bookworm base made locally with debootstrap (container/base-image.sh).
ARG BASE=python:3.11-slim-bookworm

FROM ${BASE} AS build
COPY build/wheels/ /wheels/
# pip runs from its own wheel, so a base without pip (Debian's python3) builds the same way.
RUN python3 -m venv --without-pip /opt/audjust-mock \
    && pip_wheel="$(echo /wheels/pip-*.whl)" \
    && /opt/audjust-mock/bin/python "$pip_wheel/pip" install --quiet --no-index \
        --find-links /wheels --no-cache-dir --disable-pip-version-check audjust-mock \
    && /opt/audjust-mock/bin/audjust-mock serve --help > /dev/null

FROM ${BASE}
COPY --from=build /opt/audjust-mock /opt/audjust-mock
RUN groupadd --system --gid 10001 audjust \
    && useradd --system --uid 10001 --gid 10001 --home-dir /data --no-create-home \
        --shell /usr/sbin/nologin audjust \
    && mkdir /data && chown audjust:audjust /data
ENV PATH=/opt/audjust-mock/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    AUDJUST_MOCK_HOST=0.0.0.0 \
    AUDJUST_MOCK_PORT=8080 \
    AUDJUST_MOCK_RESULTS_PORT=8081 \
    AUDJUST_MOCK_DATA_DIR=/data
# Results, and the jobs still owed a webhook, outlive the container here.
VOLUME ["/data"]
EXPOSE 8080 8081
USER audjust
WORKDIR /data
# Open without the admin token; reads the port the container was configured with.
HEALTHCHECK --interval=5s --timeout=3s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('AUDJUST_MOCK_PORT', '8080') + '/_mock/health', timeout=2)"]
# Exec form: the mock is PID 1 and handles SIGTERM itself (it stops its listeners, then its
# worker processes, which it reaps), so `docker stop` ends it in about a second without --init.
ENTRYPOINT ["audjust-mock", "serve"]
