"""`manage.py serve --production`: gunicorn and the task cluster as one unit, for real.

Runs the command in a subprocess on a scratch SQLite database with production settings
(DEBUG off, secret key from the environment), waits for /health/ to see the database and a
live task cluster, then checks that losing one process stops the other and fails the unit.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def _get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.fixture
def production_env(tmp_path):
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "MALLRUN_", "Q_", "DATABASE_URL", "REDIS_URL"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="test-" + "k" * 60,
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_SECURE_SSL_REDIRECT="0",
        DJANGO_SECURE_COOKIES="0",
        DJANGO_STATIC_ROOT=str(tmp_path / "static"),
        DJANGO_MAILER_BACKEND="django.core.mail.backends.dummy.EmailBackend",
        DATABASE_URL=f"sqlite:///{tmp_path / 'prod.sqlite3'}",
        WEB_CONCURRENCY="1",
        Q_WORKERS="1",
    )
    return env


def _manage(env, *args, check=True):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        env=env,
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=check,
        timeout=120,
    )


def test_production_refuses_unapplied_migrations(production_env):
    result = _manage(production_env, "serve", "--production", check=False)
    assert result.returncode != 0
    assert "unapplied migrations" in result.stderr


def test_production_serves_with_a_live_cluster_and_stops_as_one_unit(production_env):
    _manage(production_env, "migrate", "--noinput", "-v0")
    _manage(production_env, "createcachetable")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    unit = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--production", f"127.0.0.1:{port}"],
        env=production_env,
        cwd=settings.BASE_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        status, body = 0, {}
        while time.monotonic() < deadline:
            try:
                status, body = _get(f"{base}/health/")
            except OSError:
                status = 0
            if status == 200:
                break
            time.sleep(0.5)
        assert status == 200, body
        assert body["task_queue"]["clusters"] == 1
        assert body["task_queue"]["status"] == "ok"
        web_status, _ = _get(f"{base}/health/web/")
        assert web_status == 200

        # Kill the web server: the unit stops the cluster and exits non-zero.
        children = _children(unit.pid)
        assert len(children) == 2
        (gunicorn,) = [
            pid for pid in children if b"gunicorn" in Path(f"/proc/{pid}/cmdline").read_bytes()
        ]
        os.kill(gunicorn, signal.SIGKILL)
        output, _ = unit.communicate(timeout=60)
        assert unit.returncode != 0
        assert "stopped on its own" in output
        for pid in children:
            assert (
                not Path(f"/proc/{pid}").exists()
                or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]
            )
    finally:
        if unit.poll() is None:
            unit.send_signal(signal.SIGTERM)
            unit.wait(timeout=30)
