"""Licences and delivery photos are private: not under MEDIA_ROOT, served to ops only."""

from django.conf import settings
from django.core.files.base import ContentFile
from django.urls import reverse

from drivers.models import Driver
from tests import factories as f


def _driver_with_licence():
    driver = f.DriverFactory(user=f.UserFactory(username="lena-driver"))
    driver.licence_photo.save("licence.jpg", ContentFile(b"\xff\xd8\xff fake jpeg"), save=True)
    return Driver.objects.get(pk=driver.pk)


def test_a_licence_is_stored_outside_the_public_media_folder(db):
    driver = _driver_with_licence()
    path = driver.licence_photo.path
    assert path.startswith(str(settings.PRIVATE_MEDIA_ROOT))
    assert not path.startswith(str(settings.MEDIA_ROOT) + "/")
    assert driver.licence_photo.url.startswith("/private-media/licences/")


def test_ops_can_open_a_licence(client, ops_user):
    driver = _driver_with_licence()
    client.force_login(ops_user)
    response = client.get(driver.licence_photo.url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"\xff\xd8\xff")
    assert "private" in response["Cache-Control"] and "no-store" in response["Cache-Control"]
    assert response["Content-Type"] == "image/jpeg"


def test_everyone_else_gets_404(client, shopper, manager, driver):
    licence = _driver_with_licence().licence_photo.url
    assert client.get(licence).status_code == 404  # anonymous
    for user in (shopper.user, manager, driver.user):
        client.force_login(user)
        assert client.get(licence).status_code == 404


def test_no_path_tricks(client, ops_user):
    client.force_login(ops_user)
    for path in ("../config/settings.py", "licences/../../manage.py", ".hidden", "nope.jpg"):
        url = reverse("private_media", args=[path])
        assert client.get(url).status_code == 404, path
