#!/usr/bin/env bash
# Refresh the dependency locks from pyproject.toml, on purpose (never as a side effect of an install):
#   bash tools/lock.sh             # keep every pin that still fits pyproject.toml, add what is new
#   bash tools/lock.sh --upgrade   # move every pin to the newest version pyproject.toml allows
# requirements.txt is what the bot runs on (the README's first command, the Dockerfile);
# requirements-test.txt adds the test extras (the README's test command, .ci/run).
# uv resolves them; its own version is pinned here so that a refresh is reproducible too.
set -euo pipefail
cd "$(dirname "$0")/.."
UV_VERSION=0.13.9
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m venv "$tmp/venv"
"$tmp/venv/bin/pip" install -q "uv==$UV_VERSION"
compile() {
    # --universal: one lock for every platform a self-hoster may run (markers, not one machine's wheels).
    "$tmp/venv/bin/uv" pip compile pyproject.toml --universal --python-version 3.11 --quiet \
        --custom-compile-command "bash tools/lock.sh" "$@"
}
upgrade=()
[ "${1:-}" = "--upgrade" ] && upgrade=(--upgrade)
compile "${upgrade[@]}" -o requirements.txt
compile "${upgrade[@]}" --extra test -o requirements-test.txt
echo "requirements.txt and requirements-test.txt refreshed; run the suite before committing them."
