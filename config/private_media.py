"""Private uploads (licences, delivery photos) for operations staff only."""

from __future__ import annotations

import mimetypes
from pathlib import PurePosixPath

from django.http import FileResponse, Http404
from django.views.decorators.cache import never_cache

from config.storage import private_storage
from orders.permissions import is_ops


@never_cache
def serve(request, path: str):
    """A private upload, for operations staff only (everyone else: 404, as if absent)."""
    if not (request.user.is_authenticated and is_ops(request.user)):
        raise Http404("No such file.")
    parts = PurePosixPath(path).parts
    if not parts or any(p in ("..", "") or p.startswith(".") for p in parts):
        raise Http404("No such file.")
    storage = private_storage()
    if not storage.exists(path):
        raise Http404("No such file.")
    content_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
    response = FileResponse(storage.open(path, "rb"), content_type=content_type)
    response["Cache-Control"] = "private, no-store"
    return response
