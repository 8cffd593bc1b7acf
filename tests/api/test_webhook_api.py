"""Owners manage their webhook endpoints and read every attempt through the API."""

from standardwebhooks.webhooks import Webhook

from orders import webhooks as w


def test_an_owner_adds_an_endpoint_tests_it_and_reads_the_log(
    retailer_api, monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr(w, "http_post", lambda *a: sent.append(a) or (500, "nope"))
    created = retailer_api.post(
        "/api/v1/webhooks/endpoints/",
        {"url": "https://shop.example/hooks", "events": ["order.created"]},
        format="json",
    )
    assert created.status_code == 201, created.json()
    secret = created.json()["secret"]
    with django_capture_on_commit_callbacks(execute=True):
        tested = retailer_api.post(f"/api/v1/webhooks/endpoints/{created.json()['id']}/test/")
    assert tested.status_code == 202
    _, body, headers, _ = sent[0]
    assert Webhook(secret).verify(body, headers)["type"] == "webhook.test"
    log = retailer_api.get("/api/v1/webhooks/deliveries/").json()["results"]
    assert log[0]["status"] == "pending" and log[0]["log"][0]["status_code"] == 500
    assert log[0]["log"][0]["response_excerpt"] == "nope"
    with django_capture_on_commit_callbacks(execute=True):
        again = retailer_api.post(f"/api/v1/webhooks/deliveries/{log[0]['id']}/redeliver/")
    assert again.status_code == 202
    log = retailer_api.get("/api/v1/webhooks/deliveries/").json()["results"]
    assert len(log[0]["log"]) == 2
    assert "secret" not in retailer_api.get("/api/v1/webhooks/endpoints/").json()["results"][0]


def test_unknown_events_are_refused(retailer_api):
    response = retailer_api.post(
        "/api/v1/webhooks/endpoints/",
        {"url": "https://x.example/", "events": ["order.eaten"]},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "events.0"


def test_another_owners_endpoints_and_deliveries_are_404(
    retailer_api, other_retailer_api, partner_api
):
    endpoint = w.webhook_endpoint_create(url="https://a.example/", partner="Acme Market")
    delivery = w.webhook_send_test(endpoint=endpoint)
    for api in (retailer_api, other_retailer_api):
        assert (
            api.post(f"/api/v1/webhooks/endpoints/{endpoint.pk}/rotate-secret/").status_code == 404
        )
        assert api.post(f"/api/v1/webhooks/deliveries/{delivery.pk}/redeliver/").status_code == 404
        assert api.get("/api/v1/webhooks/deliveries/").json()["results"] == []
    assert (
        partner_api.post(f"/api/v1/webhooks/endpoints/{endpoint.pk}/rotate-secret/").status_code
        == 200
    )


def test_a_disabled_endpoint_can_be_enabled_again(partner_api):
    endpoint = w.webhook_endpoint_create(url="https://a.example/", partner="Acme Market")
    type(endpoint).objects.filter(pk=endpoint.pk).update(is_active=False, disabled_reason="x")
    response = partner_api.post(f"/api/v1/webhooks/endpoints/{endpoint.pk}/enable/")
    assert response.json()["is_active"] is True
    assert "secret" not in response.json()  # shown at creation and rotation only


def test_test_keys_and_live_keys_each_see_only_their_own_endpoints(partner_api, sandbox_api):
    live = w.webhook_endpoint_create(url="https://live.example/", partner="Acme Market")
    made = sandbox_api.post(
        "/api/v1/webhooks/endpoints/", {"url": "https://sandbox.example/"}, format="json"
    )
    assert made.status_code == 201 and made.json()["test_mode"] is True
    sandbox_urls = [
        e["url"] for e in sandbox_api.get("/api/v1/webhooks/endpoints/").json()["results"]
    ]
    live_urls = [e["url"] for e in partner_api.get("/api/v1/webhooks/endpoints/").json()["results"]]
    assert sandbox_urls == ["https://sandbox.example/"]
    assert live_urls == ["https://live.example/"]
    # A test key can't rotate, test or read the log of the live endpoint.
    for action in ("rotate-secret", "test"):
        url = f"/api/v1/webhooks/endpoints/{live.pk}/{action}/"
        assert sandbox_api.post(url).status_code == 404
    live.refresh_from_db()
    assert live.previous_secret == ""
