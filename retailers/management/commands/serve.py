"""Run the web server and the django-q2 task cluster together, as one supervised unit.

Locally (`make run`) that is runserver + qcluster on the local database. In production
(`--production`) it is gunicorn + qcluster, every setting from the environment; `--web-only`
and `--tasks-only` split them over machines. Ctrl-C or SIGTERM stops both, and if either one
dies the other is stopped too and the command exits non-zero, so the process manager
(systemd, a container platform) restarts the unit as a whole instead of running it half.
"""

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Start the web server and the task cluster together (--production: gunicorn)."

    def add_arguments(self, parser):
        parser.add_argument(
            "addrport",
            nargs="?",
            default=None,
            help="Where to listen (default 127.0.0.1:8000 locally, 0.0.0.0:$PORT in production).",
        )
        parser.add_argument(
            "--production",
            action="store_true",
            help="gunicorn instead of runserver; refuses DEBUG and unapplied migrations.",
        )
        parts = parser.add_mutually_exclusive_group()
        parts.add_argument("--web-only", action="store_true", help="No task cluster here.")
        parts.add_argument("--tasks-only", action="store_true", help="No web server here.")
        parser.add_argument(
            "--workers",
            type=int,
            default=int(os.environ.get("WEB_CONCURRENCY", "0")) or (os.cpu_count() or 1) * 2 + 1,
            help="gunicorn worker processes (WEB_CONCURRENCY; default 2 × cores + 1).",
        )

    def handle(self, *args, addrport, production, web_only, tasks_only, workers, **options):
        python = sys.executable
        commands = []
        if production:
            if settings.DEBUG:
                raise CommandError("--production refuses to run with DJANGO_DEBUG=1.")
            try:
                call_command("migrate", check=True, verbosity=0)
            except SystemExit:
                raise CommandError(
                    "The database has unapplied migrations: run `python manage.py migrate` "
                    "(one process, before starting the new release)."
                ) from None
            bind = addrport or f"0.0.0.0:{os.environ.get('PORT', '8000')}"
            web = [
                python,
                "-m",
                "gunicorn",
                "config.wsgi",
                "--bind",
                bind,
                "--workers",
                str(workers),
                "--timeout",
                os.environ.get("GUNICORN_TIMEOUT", "30"),
                "--graceful-timeout",
                "20",
                "--max-requests",
                "2000",
                "--max-requests-jitter",
                "200",
                "--forwarded-allow-ips",
                os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
            ]
        else:
            web = [python, "manage.py", "runserver", "--noreload", addrport or "127.0.0.1:8000"]
        if not web_only:
            commands.append([python, "manage.py", "qcluster"])
        if not tasks_only:
            commands.append(web)
        self.stdout.write(
            "Starting "
            + " and ".join("web server" if c is web else "task cluster" for c in commands)
        )
        children = [subprocess.Popen(command) for command in commands]
        stopping = False

        def stop(signum=None, frame=None):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping and all(child.poll() is None for child in children):
                time.sleep(0.2)
        finally:
            for child in children:
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 25
            for child in children:
                try:
                    child.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    child.kill()
        if not stopping:
            # Any process ending unasked is a failure of the unit, even with exit code 0, so
            # a restart-on-failure supervisor brings the whole unit back.
            first = next(c for c in children if c.returncode is not None)
            raise CommandError(
                f"A process stopped on its own (exit {first.returncode}); stopped the rest."
            )
        self.stdout.write("Web server and task cluster stopped.")
