# Antrean service image: migrations, then uvicorn, as a non-root user.
# Behind a reverse proxy set FORWARDED_ALLOW_IPS to its address (uvicorn reads it), so the
# phone-ticket rate limit sees the real client address.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    ANTREAN_DATABASE_URL=sqlite:////data/antrean.db

RUN useradd --create-home --uid 10001 antrean \
    && mkdir -p /data \
    && chown antrean:antrean /data

WORKDIR /srv/antrean
# Exactly the tested versions: every package pinned with its hashes in requirements.lock.
COPY requirements.lock ./
RUN pip install --require-hashes --no-deps -r requirements.lock
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY migrations ./migrations
# Editable, so the service finds migrations/ beside app/ as in a checkout; the build backend
# (setuptools) comes from the lock too.
RUN pip install --no-deps --no-build-isolation -e .

USER antrean
VOLUME ["/data"]
EXPOSE 8000
# Logs as one JSON object a line, for the log collector (`python -m app` defaults to text).
ENV ANTREAN_HOST=0.0.0.0 ANTREAN_PORT=8000 ANTREAN_LOG_FORMAT=json
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"
CMD ["sh", "-c", "alembic upgrade head && exec python -m app"]
