"""Request ids and structured logs.

Every request gets an id: the caller's `X-Request-ID` when it is a sane token (a load
balancer's or a partner's), otherwise a new one. It is returned in the `X-Request-ID`
response header, put on every log line written while the request runs, and carried into the
django-q2 tasks the request enqueues, so one id ties a checkout to its webhooks and messages.

`JsonFormatter` writes one JSON object per line (production default, `MALLRUN_LOG_FORMAT`);
`RequestIdFilter` adds `request_id` to every record, whichever formatter prints it.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import re
import time
import uuid

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
_SANE_ID = re.compile(r"^[A-Za-z0-9._:/=+-]{8,128}$")
access_log = logging.getLogger("mallrun.request")

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "request_id",
}


def current_request_id() -> str:
    return request_id_var.get()


class RequestIdMiddleware:
    """Outermost middleware: sets the id, answers with it, writes one access line."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _SANE_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            user = getattr(request, "user", None)
            access_log.info(
                "%s %s %s",
                request.method,
                _printable(request.path),
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    "user_id": user.pk if user is not None and user.is_authenticated else None,
                },
            )
            return response
        finally:
            request_id_var.reset(token)


def _printable(text: str) -> str:
    """No control characters: a path with an encoded newline can't forge a plain log line."""
    return text if text.isprintable() else text.encode("unicode_escape").decode("ascii")


class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            # Django logs 4xx/5xx ("django.request") after the middleware chain has returned,
            # with the request on the record.
            request = getattr(record, "request", None)
            record.request_id = getattr(request, "request_id", None) or request_id_var.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", request_id_var.get()),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = (
                    value if isinstance(value, str | int | float | bool | None) else str(value)
                )
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


# --- Tasks: the enqueuing request's id travels with the task -----------------------------


def _tag_task(sender, task, **kwargs):
    task.setdefault("request_id", request_id_var.get())


def _adopt_task_id(sender, func, task, **kwargs):
    inherited = task.get("request_id")
    request_id_var.set(
        inherited if inherited and inherited != "-" else f"task-{task.get('id', '')[:12]}"
    )


def connect_task_signals() -> None:
    from django_q.signals import pre_enqueue, pre_execute

    pre_enqueue.connect(_tag_task, dispatch_uid="mallrun-request-id-enqueue")
    pre_execute.connect(_adopt_task_id, dispatch_uid="mallrun-request-id-execute")
