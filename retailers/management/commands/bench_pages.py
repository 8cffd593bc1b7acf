"""Whole-stack page benchmark: gunicorn + a load generator (wrk) on loopback.

Each page is measured in the same run as a trivial reference view (`/health/`, one
`SELECT 1`), and reported as requests per second, p99 latency and the ratio to the reference.
It builds a throw-away database with the demo data: SQLite by default, or an empty
PostgreSQL database named with `--database` (never the one in DATABASE_URL, which it would
fill with demo rows).
"""

from __future__ import annotations

import datetime as dt
import http.cookiejar
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

PAGES = [
    ("reference: /health/ (SELECT 1)", "/health/", None),
    ("availability (Las Vegas, demo catalog)", "/shop/", "shopper-location"),
    ("availability, search 'lip'", "/shop/?q=lip", "shopper-location"),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_up(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except OSError:
            time.sleep(0.3)
    raise CommandError(f"the server at {url} did not answer")


def _session_with_location(base: str) -> str:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(f"{base}/shop/?zip=89109", timeout=10).read()
    for cookie in jar:
        if cookie.name == "sessionid":
            return f"sessionid={cookie.value}"
    raise CommandError("no session cookie came back from /shop/?zip=89109")


def _wrk(url: str, *, seconds: int, connections: int, cookie: str | None) -> tuple[float, float]:
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if cookie:
        cmd[1:1] = ["-H", f"Cookie: {cookie}"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    match = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    value, unit = float(match.group(1)), match.group(2)
    p99_ms = value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise CommandError(f"{url}: {errors.group(1)} error responses\n{out}")
    return rps, p99_ms


class Command(BaseCommand):
    help = "Benchmark pages against a reference view with gunicorn and wrk; write docs/bench.md."

    def add_arguments(self, parser):
        parser.add_argument("--seconds", type=int, default=10)
        parser.add_argument("--connections", type=int, default=16)
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument("--out", default=str(settings.BASE_DIR / "docs" / "bench.md"))
        parser.add_argument("--database", default="", help="URL of an empty database to use.")

    def handle(self, *args, seconds, connections, workers, out, database, **options):
        if not shutil.which("wrk"):
            raise CommandError("wrk is not installed: apt-get install -y wrk")
        work = Path(tempfile.mkdtemp(prefix="mallrun-bench-"))
        env = {
            **os.environ,
            "DJANGO_DEBUG": "0",
            "DJANGO_SECRET_KEY": "bench-" + os.urandom(24).hex(),
            "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_SECURE_SSL_REDIRECT": "0",
            "DJANGO_SECURE_COOKIES": "0",
            "DJANGO_SECURE_HSTS_SECONDS": "0",
            "DJANGO_STATIC_ROOT": str(work / "static"),
            "DJANGO_MAILER_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
            "DJANGO_LOG_LEVEL": "WARNING",
        }
        database = database or f"sqlite:///{work / 'bench.sqlite3'}"
        env["DATABASE_URL"] = database
        manage = [sys.executable, "manage.py"]
        cwd = settings.BASE_DIR
        for step in (
            ["migrate", "-v0"],
            ["createcachetable"],
            ["collectstatic", "-v0", "--noinput"],
        ):
            subprocess.run(manage + step, env=env, cwd=cwd, check=True)
        subprocess.run(
            manage + ["load_demo", "--force"],
            env=env,
            cwd=cwd,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi",
                "-b",
                f"127.0.0.1:{port}",
                "-w",
                str(workers),
                "--log-level",
                "warning",
            ],
            env=env,
            cwd=cwd,
        )
        try:
            _wait_until_up(f"{base}/health/")
            cookie = _session_with_location(base)
            rows = []
            for label, path, needs in PAGES:
                _wrk(
                    base + path,
                    seconds=2,
                    connections=connections,
                    cookie=cookie if needs else None,
                )  # warm-up
                rps, p99 = _wrk(
                    base + path,
                    seconds=seconds,
                    connections=connections,
                    cookie=cookie if needs else None,
                )
                rows.append((label, path, rps, p99))
                self.stdout.write(f"{label:45} {rps:8.0f} req/s  p99 {p99:6.1f} ms")
        finally:
            server.terminate()
            server.wait(timeout=20)
            shutil.rmtree(work, ignore_errors=True)
        reference = rows[0][2]
        engine = "PostgreSQL" if database.startswith("postgres") else "SQLite (WAL)"
        lines = [
            "# Page benchmark",
            "",
            f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {platform.node()} "
            f"({os.cpu_count()} cores, {platform.machine()}), Python {platform.python_version()}, "
            f"{engine}, gunicorn {workers} sync workers, wrk 2 threads × {connections} "
            f"connections × {seconds} s per page after a 2 s warm-up, demo data loaded. "
            "Load generator and server share the machine.",
            "",
            "Target: every page at least a third of the reference view's throughput.",
            "",
            "| page | path | req/s | p99 (ms) | vs reference |",
            "| --- | --- | ---: | ---: | ---: |",
        ]
        for label, path, rps, p99 in rows:
            lines.append(f"| {label} | `{path}` | {rps:.0f} | {p99:.1f} | {rps / reference:.2f} |")
        lines.append("")
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text("\n".join(lines))
        self.stdout.write(f"Written to {out}")
