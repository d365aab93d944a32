#!/usr/bin/env bash
# Does the suite pass on the newest releases pyproject.toml allows (not the locked ones)?
#   bash tools/try-newest.sh [pytest arguments]
# Run it before refreshing the locks (tools/lock.sh --upgrade), and now and then (monthly, or
# when a dependency announces a release that matters): a failure here is what would break a
# fresh clone on the day the locks move, found before they do. It changes nothing in the repo:
# it installs into a temporary environment, prints the versions it got that differ from
# requirements-test.txt, and runs the whole suite there.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m venv "$tmp/venv"
"$tmp/venv/bin/pip" install -q --upgrade --upgrade-strategy eager -e '.[test]'
echo "Newer than the lock:"
"$tmp/venv/bin/pip" freeze --exclude-editable | tr 'A-Z_' 'a-z-' | sort >"$tmp/got"
grep -E '^[A-Za-z0-9_.-]+==' requirements-test.txt | sed 's/ .*//' | tr 'A-Z_' 'a-z-' | sort >"$tmp/locked"
comm -23 "$tmp/got" "$tmp/locked" | sed 's/^/  /' || true
# -p no:cacheprovider: the run leaves nothing behind in the work tree.
"$tmp/venv/bin/python" -m pytest -p no:cacheprovider "$@"
