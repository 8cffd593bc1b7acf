"""Managers' API keys and webhooks page: only managers of the retailer's stores, one-time
secrets, and nothing of another retailer within reach."""

import pytest
from django.urls import reverse

from orders.api.auth import api_key_create, hash_key
from orders.models import ApiKey, WebhookDelivery, WebhookEndpoint
from orders.webhooks import webhook_endpoint_create, webhook_send_test
from retailers.models import AuditEntry

pytestmark = pytest.mark.django_db


def url(name, store, *args):
    return reverse(f"store:{name}", args=[store.slug, *args])


@pytest.fixture
def as_manager(client, manager):
    client.force_login(manager)
    return client


def test_a_manager_sees_the_retailers_keys_and_endpoints(as_manager, store, other_store):
    api_key_create(name="POS sync", scopes=["orders:read"], retailer=store.retailer)
    api_key_create(name="Not ours", scopes=["orders:read"], retailer=other_store.retailer)
    response = as_manager.get(url("integrations", store))
    assert response.status_code == 200
    assert b"POS sync" in response.content and b"Not ours" not in response.content


def test_an_associate_is_refused(client, associate, store):
    client.force_login(associate)
    assert client.get(url("integrations", store)).status_code == 403
    assert client.post(url("key_create", store), {"name": "x"}).status_code == 403


def test_another_stores_staff_get_404(client, other_staff, store):
    client.force_login(other_staff)
    assert client.get(url("integrations", store)).status_code == 404


def test_a_new_key_is_shown_once_and_only_its_hash_is_kept(as_manager, store):
    response = as_manager.post(
        url("key_create", store), {"name": "Shopify", "scopes": ["orders:read", "orders:write"]}
    )
    assert response.status_code == 200
    key = ApiKey.objects.get(name="Shopify")
    raw = response.context["secret"]["value"]
    assert raw.startswith(key.prefix) and key.key_hash == hash_key(raw)
    assert key.retailer_id == store.retailer_id
    assert AuditEntry.objects.filter(action="apikey.create").exists()
    again = as_manager.get(url("integrations", store))
    assert raw.encode() not in again.content


def test_a_key_without_scopes_is_refused_next_to_the_field(as_manager, store):
    response = as_manager.post(url("key_create", store), {"name": "Nothing"})
    assert response.status_code == 400
    assert response.context["key_form"].errors["scopes"]
    assert not ApiKey.objects.exists()


def test_revoking_works_for_our_keys_and_404s_for_others(as_manager, store, other_store):
    ours, _ = api_key_create(name="Ours", scopes=["orders:read"], retailer=store.retailer)
    theirs, _ = api_key_create(name="Theirs", scopes=["orders:read"], retailer=other_store.retailer)
    assert as_manager.post(url("key_revoke", store, ours.pk)).status_code == 302
    assert as_manager.post(url("key_revoke", store, theirs.pk)).status_code == 404
    ours.refresh_from_db()
    theirs.refresh_from_db()
    assert ours.revoked_at is not None and theirs.revoked_at is None


def test_an_endpoint_needs_https_and_shows_its_secret_once(as_manager, store):
    response = as_manager.post(url("endpoint_create", store), {"url": "http://pos.example/h"})
    assert response.status_code == 400
    assert "https" in response.context["endpoint_form"].errors["url"][0]
    response = as_manager.post(
        url("endpoint_create", store), {"url": "https://pos.example/h", "events": ["order.ready"]}
    )
    endpoint = WebhookEndpoint.objects.get()
    assert response.context["secret"]["value"] == endpoint.secret
    assert endpoint.events == ["order.ready"] and endpoint.retailer_id == store.retailer_id
    assert endpoint.test_mode is False


def test_a_sandbox_endpoint_is_marked_and_shown_as_such(as_manager, store):
    as_manager.post(
        url("endpoint_create", store), {"url": "https://staging.pos.example/h", "test_mode": "on"}
    )
    assert WebhookEndpoint.objects.get().test_mode is True
    assert ">sandbox</span>" in as_manager.get(url("integrations", store)).text


def test_rotating_shows_the_new_secret_and_keeps_the_old_for_a_while(as_manager, store):
    endpoint = webhook_endpoint_create(url="https://pos.example/h", retailer=store.retailer)
    old = endpoint.secret
    response = as_manager.post(url("endpoint_rotate", store, endpoint.pk))
    endpoint.refresh_from_db()
    assert response.context["secret"]["value"] == endpoint.secret != old
    assert endpoint.previous_secret == old


def test_deliveries_are_listed_resent_and_closed_to_other_retailers(
    as_manager, store, other_store, django_capture_on_commit_callbacks
):
    ours = webhook_endpoint_create(url="https://pos.example/h", retailer=store.retailer)
    theirs = webhook_endpoint_create(url="https://other.example/h", retailer=other_store.retailer)
    as_manager.post(url("endpoint_test", store, ours.pk))
    delivery = WebhookDelivery.objects.get(endpoint=ours)
    page = as_manager.get(url("endpoint", store, ours.pk))
    assert b"webhook.test" in page.content
    assert as_manager.get(url("endpoint", store, theirs.pk)).status_code == 404
    other_delivery = webhook_send_test(endpoint=theirs)
    assert as_manager.post(url("delivery_redeliver", store, other_delivery.pk)).status_code == 404
    assert as_manager.post(url("delivery_redeliver", store, delivery.pk)).status_code == 302
