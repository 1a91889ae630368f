# OCP API image: a slim, non-root runtime with the project and its runtime dependencies only
# (no dev extras, no embedded database). Build: docker build -t ocp .
# Run:   docker run -e OCP_MONGODB_URI=... -e OCP_JWT_SECRET=... -p 8000:8000 ocp

FROM python:3.12-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
# The dependencies from the locks (`make lock`), exact and hash-checked: the runtime ones into
# /opt/ocp, the build backend into a venv of its own that stays in this stage.
COPY requirements ./requirements
RUN python -m venv /opt/ocp \
    && /opt/ocp/bin/pip install --no-cache-dir --require-hashes -r requirements/prod.txt \
    && python -m venv /opt/build \
    && /opt/build/bin/pip install --no-cache-dir --require-hashes -r requirements/build.txt
COPY pyproject.toml README.md ./
COPY ocp ./ocp
# The project itself: a wheel built by the locked setuptools, installed with nothing resolved.
RUN /opt/build/bin/pip wheel --no-cache-dir --no-deps --no-build-isolation --wheel-dir /tmp/dist . \
    && /opt/ocp/bin/pip install --no-cache-dir --no-deps /tmp/dist/*.whl

FROM python:3.12-slim-bookworm AS runtime
RUN groupadd --system --gid 10001 ocp \
    && useradd --system --uid 10001 --gid ocp --home-dir /var/lib/ocp --no-create-home ocp \
    && mkdir -p /var/lib/ocp \
    && chown ocp:ocp /var/lib/ocp
COPY --from=build /opt/ocp /opt/ocp
ENV PATH=/opt/ocp/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    OCP_ENV=production \
    OCP_HOST=0.0.0.0 \
    OCP_PORT=8000 \
    OCP_DATA_DIR=/var/lib/ocp \
    OCP_LOG_FORMAT=json \
    OCP_WORKERS=4
WORKDIR /var/lib/ocp
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2).status != 200)"]
# SIGTERM drains in-flight requests, then closes the database and store clients.
STOPSIGNAL SIGTERM
# Worker processes: OCP_WORKERS (set it from the container's CPU limit).
CMD ["ocp", "serve", "--host", "0.0.0.0"]
