"""Uploads made while licences and photos were public are moved where they now belong."""

import importlib

from django.apps import apps

from tests import factories as f

move = importlib.import_module("drivers.migrations.0006_move_private_uploads")


def test_old_public_uploads_move_to_private_storage(db, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "public"
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    old = settings.MEDIA_ROOT / "licences" / "old.jpg"
    old.parent.mkdir(parents=True)
    old.write_bytes(b"\xff\xd8\xff old licence")
    driver = f.DriverFactory()
    type(driver).objects.filter(pk=driver.pk).update(licence_photo="licences/old.jpg")
    move.move_files(apps, None)
    assert not old.exists()
    assert (settings.PRIVATE_MEDIA_ROOT / "licences" / "old.jpg").read_bytes().endswith(b"licence")
    move.move_files(apps, None)  # running again changes nothing
