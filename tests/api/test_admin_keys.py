"""Ops make keys in admin (shown once), revoke them, and redeliver webhooks."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from orders.api.auth import hash_key
from orders.models import ApiKey, WebhookDelivery
from orders.webhooks import webhook_endpoint_create, webhook_send_test


@pytest.fixture
def client(client, ops_user):
    ops_user.is_superuser = True
    ops_user.save(update_fields=["is_superuser"])
    return client


def test_admin_creates_a_key_and_shows_it_once(client, ops_user, store):
    client.force_login(ops_user)
    response = client.post(
        reverse("admin:orders_apikey_add"),
        {
            "name": "POS sync",
            "partner": "",
            "retailer": store.retailer.pk,
            "scopes": ["inventory:write"],
        },
        follow=True,
    )
    assert response.status_code == 200
    shown = [str(m) for m in get_messages(response.wsgi_request)]
    raw = next(m for m in shown if "shown only this once" in m).rsplit(" ", 1)[1]
    key = ApiKey.objects.get(key_hash=hash_key(raw))
    assert key.retailer == store.retailer and key.scopes == ["inventory:write"]


def test_admin_refuses_a_key_for_both_owners(client, ops_user, store):
    client.force_login(ops_user)
    response = client.post(
        reverse("admin:orders_apikey_add"),
        {"name": "x", "partner": "Acme", "retailer": store.retailer.pk, "scopes": ["orders:read"]},
    )
    assert response.status_code == 200 and not ApiKey.objects.exists()


def test_admin_revokes_and_redelivers(client, ops_user, partner_api, monkeypatch):
    client.force_login(ops_user)
    client.post(
        reverse("admin:orders_apikey_changelist"),
        {"action": "revoke_selected", "_selected_action": [partner_api.key.pk]},
    )
    assert partner_api.get("/api/v1/orders/").status_code == 401
    sent = []
    monkeypatch.setattr("orders.webhooks.http_post", lambda *a: sent.append(a) or (204, ""))
    delivery = webhook_send_test(
        endpoint=webhook_endpoint_create(url="https://acme.example/", partner="Acme Market")
    )
    client.post(
        reverse("admin:orders_webhookdelivery_changelist"),
        {"action": "redeliver", "_selected_action": [delivery.pk]},
    )
    # on_commit runs at once outside a transaction in the admin request under test
    assert WebhookDelivery.objects.get(pk=delivery.pk).status in ("pending", "succeeded")
    page = client.get(reverse("admin:orders_webhookdelivery_change", args=[delivery.pk]))
    assert page.status_code == 200


def test_key_and_webhook_changes_are_in_the_audit_trail_without_secrets(db, store):
    from orders.api.auth import api_key_create, api_key_revoke
    from orders.permissions import Actor
    from orders.webhooks import webhook_endpoint_create, webhook_secret_rotate
    from retailers.models import AuditEntry

    actor = Actor.system("tests")
    key, raw = api_key_create(
        name="POS", scopes=["orders:read"], retailer=store.retailer, actor=actor
    )
    api_key_revoke(key=key, actor=actor)
    endpoint = webhook_endpoint_create(
        url="https://pos.example/hooks", retailer=store.retailer, actor=actor
    )
    webhook_secret_rotate(endpoint=endpoint, actor=actor)
    actions = list(AuditEntry.objects.order_by("id").values_list("action", flat=True))
    assert actions == ["apikey.create", "apikey.revoke", "webhook.create", "webhook.rotate"]
    dumped = str(list(AuditEntry.objects.values("before", "after", "object_repr")))
    assert raw not in dumped and key.key_hash not in dumped and endpoint.secret not in dumped
