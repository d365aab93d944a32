"""The repo's own promises: the Dockerfile lints, ruff and mypy are clean, .ci/run is the README's command."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _tool(name: str) -> str:
    local = Path(sys.executable).parent / name
    found = str(local) if local.exists() else shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed; it comes with the test extras (pip install -e '.[test]')")
    return found


def test_dockerfile_passes_hadolint():
    done = subprocess.run([_tool("hadolint"), "Dockerfile"], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_dockerfile_runs_as_non_root_with_a_volume_and_healthcheck():
    text = (REPO / "Dockerfile").read_text()
    users = [line.split()[1] for line in text.splitlines() if line.startswith("USER ")]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    assert "HEALTHCHECK" in text and "bot.ops.healthcheck" in text
    assert "VOLUME" in text


def test_ruff_is_clean():
    done = subprocess.run([_tool("ruff"), "check", "."], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_type_hints_check_with_mypy():
    # bot/ and cogs/ (configured in pyproject.toml); the cache goes to a temporary directory so
    # a read-only checkout works too.
    done = subprocess.run(
        [_tool("mypy"), "--cache-dir", "/dev/null" if sys.platform != "win32" else "nul"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_ci_runs_the_readme_test_command():
    commands = [
        line.strip()
        for line in (REPO / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith(("#", "set ", "cd "))
    ]
    # The last line is exactly the README's command; before it only the browser is installed.
    assert commands[-1] in (REPO / "README.md").read_text()
    assert commands[-1].endswith("-m pytest")
    before = "\n".join(commands[:-1])
    assert "pytest" not in before and "pip" not in before
    assert "/usr/bin/chromium" in before and "apt-get install -y -qq chromium" in before


def test_env_example_lists_every_setting():
    import dataclasses
    import re

    from bot.settings import Settings

    example = (REPO / ".env.example").read_text()
    names = set(re.findall(r"^([A-Z_]+)=", example, flags=re.M))
    source = (REPO / "bot" / "settings.py").read_text()
    # Every variable is read through `_Reader.get` or `_Reader.secret`.
    read = set(re.findall(r'r\.(?:get|secret)\(\s*"([A-Z][A-Z_]+)"', source))
    assert len(read) > 20
    assert read <= names, f"settings read but not in .env.example: {read - names}"
    assert len(dataclasses.fields(Settings)) <= len(names) + 1  # models + default_model share VIDEO_MODELS


def test_the_image_carries_the_bot_but_not_the_sandbox(tmp_path):
    # What the Dockerfile's build stage copies, built as it builds it: the bot, its cogs and its
    # catalogues; the sandbox (a fake Discord, an OpenAPI file, an mp4) stays out.
    build = [line.split() for line in (REPO / "Dockerfile").read_text().splitlines()]
    sources = [
        part for line in build if line[:1] == ["COPY"] and "--from" not in line[1] for part in line[1:-1]
    ]
    assert "sandbox" not in " ".join(sources)
    for source in sources:
        path = REPO / source
        if path.is_dir():
            shutil.copytree(path, tmp_path / source, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(path, tmp_path / source)
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", "dist", "."],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    import zipfile

    (wheel,) = (tmp_path / "dist").glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "bot/__main__.py" in names and "cogs/video/cog.py" in names
    assert any(n.startswith("bot/locales/de/") for n in names)
    assert not [n for n in names if n.startswith("sandbox/") or n.endswith(".mp4")]
