"""docker-compose.yml and prometheus.yml: the structure the README promises."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def load(name: str) -> dict:
    return yaml.safe_load((REPO / name).read_text())


def test_bot_service_runs_like_the_dockerfile_says():
    bot = load("docker-compose.yml")["services"]["bot"]
    assert bot["build"] == "."
    assert bot["env_file"] == ".env"
    assert bot["restart"] == "unless-stopped"
    assert "veo-data:/data" in bot["volumes"]
    assert "profiles" not in bot  # started by a plain `docker compose up`
    # The same health check command as the image's HEALTHCHECK.
    dockerfile = (REPO / "Dockerfile").read_text()
    image_check = json.loads(re.search(r"HEALTHCHECK[^\n]*\\\n\s*CMD (\[.*\])", dockerfile)[1])
    assert bot["healthcheck"]["test"] == ["CMD", *image_check]
    assert image_check == ["python", "-m", "bot.ops.healthcheck"]
    # Reachable by the prometheus service when metrics are on.
    assert bot["environment"]["METRICS_HOST"] == "0.0.0.0"
    assert "ports" not in bot


def test_named_volumes_are_declared():
    compose = load("docker-compose.yml")
    used = {
        v.split(":")[0]
        for service in compose["services"].values()
        for v in service.get("volumes", [])
        if not v.startswith((".", "/"))
    }
    assert (
        used
        == set(compose["volumes"])
        == {
            "veo-data",
            "prometheus-data",
            "veo-postgres",
            "veo-shard-0",
            "veo-shard-1",
        }
    )


def test_scale_profile_runs_each_shard_once_on_one_postgresql():
    services = load("docker-compose.yml")["services"]
    shards = {name: s for name, s in services.items() if name.startswith("bot-shard-")}
    assert services["postgres"]["profiles"] == ["scale"]
    assert re.fullmatch(r"postgres:15\.\d+", services["postgres"]["image"])  # pinned
    urls = {s["environment"]["DATABASE_URL"] for s in shards.values()}
    assert len(urls) == 1 and urls.pop().startswith("postgresql://bot:")
    assert {s["environment"]["SHARD_COUNT"] for s in shards.values()} == {str(len(shards))}
    # Every shard in exactly one process.
    assert sorted(s["environment"]["SHARD_IDS"] for s in shards.values()) == [
        str(i) for i in range(len(shards))
    ]
    for s in shards.values():
        assert s["profiles"] == ["scale"]
        assert s["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_prometheus_is_optional_and_scrapes_the_bot():
    prometheus = load("docker-compose.yml")["services"]["prometheus"]
    assert prometheus["profiles"] == ["metrics"]
    assert re.fullmatch(r"prom/prometheus:v\d+\.\d+\.\d+", prometheus["image"])  # pinned
    mounts = {v.split(":")[1]: v.split(":")[0] for v in prometheus["volumes"]}
    config_file = mounts["/etc/prometheus/prometheus.yml"]
    assert (REPO / config_file).is_file()
    assert all(p.startswith("127.0.0.1:") for p in prometheus["ports"])  # the UI stays on the host
    (job,) = load(config_file.removeprefix("./"))["scrape_configs"]
    (target,) = job["static_configs"][0]["targets"]
    host, port = target.split(":")
    assert host == "bot" and 1 <= int(port) <= 65535
    # The README's example METRICS_PORT is the one scraped.
    assert f"METRICS_PORT={port}" in (REPO / "README.md").read_text()
