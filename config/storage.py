"""Where uploads live.

Product images are public (MEDIA_ROOT, served at MEDIA_URL). Driving licences, proof-of-
delivery and failed-delivery photos are private: they are kept under PRIVATE_MEDIA_ROOT,
which is never served as a folder. Their URLs point at `config.private_media.serve`, which
hands a file to operations staff only; the shopper sees their own proof photo through
`shop:proof`.
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.storage import FileSystemStorage, storages


class PrivateStorage(FileSystemStorage):
    def __init__(self, **kwargs):
        kwargs.setdefault("location", settings.PRIVATE_MEDIA_ROOT)
        kwargs.setdefault("base_url", "/private-media/")
        super().__init__(**kwargs)


def private_storage():
    """For FileField(storage=...): the configured "private" storage."""
    return storages["private"]
