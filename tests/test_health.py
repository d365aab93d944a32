import subprocess
import sys
import time
from pathlib import Path

from bot.ops import health

REPO = Path(__file__).resolve().parents[1]


def _beat(**kw):
    base = dict(
        at=time.time(), pid=1, gateway_connected=True, latency=0.1, api_last_success=None, unfinished_jobs=0
    )
    base.update(kw)
    return health.Heartbeat(**base)


def test_verdicts():
    assert health.verdict(None)[0] is False
    assert health.verdict(_beat())[0] is True
    assert health.verdict(_beat(gateway_connected=False))[0] is False
    assert health.verdict(_beat(at=time.time() - 600))[0] is False


def test_round_trip_and_checker_exit_codes(tmp_path):
    path = tmp_path / "health.json"
    env = {"HEALTH_FILE": str(path), "PATH": ""}
    cmd = [sys.executable, "-m", "bot.ops.healthcheck"]
    assert subprocess.run(cmd, env=env, capture_output=True, cwd=REPO).returncode == 1
    health.write(path, _beat(api_last_success=time.time() - 5, unfinished_jobs=2))
    assert health.read(path) is not None
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stdout
    assert "2 unfinished jobs" in done.stdout
