"""Load and fault tests (`-m load`): hundreds of threads racing on PostgreSQL, a task worker
killed mid-burst, a webhook receiver down for an hour.

Connections: PostgreSQL's default `max_connections` is 100 and other processes (the test
session itself, a task cluster, other runs on the machine) hold some. The races therefore
start every thread at one barrier but let at most `CONNECTIONS_AT_ONCE` of them hold a
database connection at a time: a thread takes a slot, makes its attempt, closes its
connection and gives the slot back. So 200 shoppers do race, 64 at a time inside PostgreSQL,
without raising `max_connections`.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import connection, connections

from retailers import clock

CONNECTIONS_AT_ONCE = 64
# Wednesday 25 November 2026, 19:00 UTC: 11:00 am in Las Vegas (stores open, drivers out).
NOON_ISH = dt.datetime(2026, 11, 25, 19, 0, tzinfo=dt.UTC)


@pytest.fixture
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL for real concurrency (set DATABASE_URL; CI runs it)")


@pytest.fixture
def frozen():
    """Promises are quoted at 11 am mall time whatever the hour of the run."""
    with clock.frozen_at(NOON_ISH):
        yield NOON_ISH


@dataclass
class RaceResult:
    results: list
    peak_connections: int = 0


def race(n: int, work, *, at_once: int = CONNECTIONS_AT_ONCE) -> RaceResult:
    """Run `work(i)` in n threads released together by one barrier, at most `at_once` of them
    inside the database at a time. Returns each result or the exception it raised."""
    barrier = threading.Barrier(n)
    slots = threading.BoundedSemaphore(at_once)
    results: list = [None] * n
    inside = 0
    peak = 0
    count_lock = threading.Lock()

    def run(i: int) -> None:
        nonlocal inside, peak
        try:
            barrier.wait(timeout=120)
            with slots:
                with count_lock:
                    inside += 1
                    peak = max(peak, inside)
                try:
                    results[i] = work(i)
                finally:
                    connections.close_all()
                    with count_lock:
                        inside -= 1
        except Exception as exc:  # collected and asserted by the caller
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,), name=f"race-{i}") for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    stuck = [t.name for t in threads if t.is_alive()]
    assert not stuck, f"threads still running: {stuck[:5]}"
    return RaceResult(results=results, peak_connections=peak)


class WebhookReceiver:
    """A partner's endpoint on 127.0.0.1: records every POST (webhook-id and payload) and
    answers `status_for(now)` (200 unless a test says otherwise)."""

    def __init__(self):
        self.seen: list[tuple[str, dict]] = []
        self.status_for = lambda: 200
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the http.server hook's name
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status = receiver.status_for()
                if 200 <= status < 300:
                    with receiver._lock:
                        receiver.seen.append((self.headers["webhook-id"], json.loads(body)))
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/mallrun"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def ids(self) -> list[str]:
        with self._lock:
            return [msg_id for msg_id, _ in self.seen]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = WebhookReceiver()
    yield r
    r.close()
