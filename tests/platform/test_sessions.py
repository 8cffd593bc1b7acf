"""Sessions carry who is signed in, so a request reads its session and its user in one query;
Django's checks on that user (active, password unchanged) still apply."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from orders.models import WebSession


def _queries(client, url):
    with CaptureQueriesContext(connection) as q:
        response = client.get(url)
    return response, [x["sql"] for x in q.captured_queries]


def test_a_signed_in_request_reads_its_session_and_user_in_one_query(client, shopper):
    client.force_login(shopper.user)
    response, queries = _queries(client, reverse("orders:mine"))
    assert response.status_code == 200
    assert response.context["user"] == shopper.user
    session_reads = [q for q in queries if "orders_websession" in q]
    assert len(session_reads) == 1
    assert "auth_user" in session_reads[0]
    assert not [q for q in queries if q.lstrip().startswith("SELECT") and 'FROM "auth_user"' in q]


def test_the_session_row_knows_who_signed_in_and_is_gone_after_sign_out(client, shopper):
    client.force_login(shopper.user)
    row = WebSession.objects.get(session_key=client.session.session_key)
    assert row.user == shopper.user
    client.post(reverse("logout"))
    assert not WebSession.objects.filter(user=shopper.user).exists()


def test_an_anonymous_session_has_no_user(client, db):
    session = client.session
    session["cart_id"] = 1
    session.save()
    assert WebSession.objects.get(session_key=session.session_key).user_id is None


def test_a_deactivated_person_is_signed_out_at_the_next_request(client, shopper):
    client.force_login(shopper.user)
    get_user_model().objects.filter(pk=shopper.user.pk).update(is_active=False)
    response = client.get(reverse("orders:mine"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_password_change_elsewhere_signs_this_session_out(client, shopper):
    client.force_login(shopper.user)
    user = get_user_model().objects.get(pk=shopper.user.pk)
    user.set_password("a-new-long-password-1")
    user.save()
    response = client.get(reverse("orders:mine"))
    assert response.status_code == 302


def test_the_person_is_who_the_session_says_even_if_the_column_disagrees(client, shopper):
    # The column only lets the user be read in the same query; the signed session data is
    # what counts (the user is then read on its own).
    client.force_login(shopper.user)
    WebSession.objects.update(user_id=shopper.user.pk + 10_000)
    response = client.get(reverse("orders:mine"))
    assert response.status_code == 200
    assert response.context["user"] == shopper.user


def test_deleting_a_person_deletes_their_sessions(client, shopper):
    client.force_login(shopper.user)
    # The person's orders are kept (PROTECT); a bare account is enough here.
    user = get_user_model().objects.create_user("leaving", password="x-long-password-9")
    client.force_login(user)
    assert WebSession.objects.filter(user=user).exists()
    user.delete()
    assert not WebSession.objects.filter(user_id=user.pk).exists()


@pytest.mark.django_db
def test_ops_can_sign_a_session_out_in_admin(client, shopper, ops_user):
    from django.test import Client

    phone = Client()
    phone.force_login(shopper.user)
    assert phone.get(reverse("orders:mine")).status_code == 200
    ops_user.is_superuser = True
    ops_user.save(update_fields=["is_superuser"])
    client.force_login(ops_user)
    key = phone.session.session_key
    listing = client.get(reverse("admin:orders_websession_changelist"))
    assert shopper.user.username in listing.text
    assert "session_data" not in listing.text
    response = client.post(
        reverse("admin:orders_websession_changelist"),
        {"action": "sign_out_selected", "_selected_action": [key]},
    )
    assert response.status_code == 302
    assert phone.get(reverse("orders:mine")).status_code == 302


def test_housekeeping_deletes_expired_sessions(client, shopper):
    import datetime as dt

    from django.utils import timezone

    from orders.tasks import api_housekeeping

    client.force_login(shopper.user)
    WebSession.objects.update(expire_date=timezone.now() - dt.timedelta(minutes=1))
    api_housekeeping()
    assert not WebSession.objects.exists()
