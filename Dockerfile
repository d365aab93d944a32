# syntax=docker/dockerfile:1

# --- build: install the package and its dependencies into a virtual environment ----------------
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/venv
COPY requirements.txt pyproject.toml README.md ./
# The lock first (its layer is cached while it does not change), then the package without resolving again.
RUN /opt/venv/bin/pip install -r requirements.txt
COPY bot ./bot
COPY cogs ./cogs
RUN /opt/venv/bin/pip install --no-deps .

# --- run: only the environment, as an unprivileged user ------------------------------------------
FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    DATABASE_PATH=/data/bot.db \
    HEALTH_FILE=/data/health.json
RUN useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin bot \
    && mkdir -p /data && chown bot:bot /data
COPY --from=build /opt/venv /opt/venv
USER 10001:10001
WORKDIR /data
# The job database lives here: mount a volume so jobs survive a new container.
VOLUME ["/data"]
# Healthy = the bot wrote a heartbeat in the last 90 s and its gateway is connected.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-m", "bot.ops.healthcheck"]
# SIGTERM lets the bot finish store writes and close its sessions; jobs resume on the next start.
STOPSIGNAL SIGTERM
CMD ["python", "-m", "bot"]
