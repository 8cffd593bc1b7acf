"""Driver tokens for a native app: sign in with a password (shown once, hashed), use the token
on the driver endpoints only, sign out; refusals for wrong passwords, other drivers' routes,
API keys, partner endpoints, revoked tokens and suspended drivers."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from drivers.models import Driver
from orders.api.auth import driver_token_create, driver_token_revoke, hash_key
from orders.models import DriverToken
from orders.permissions import Actor
from retailers.models import AuditEntry
from tests import factories as f

TOKENS = "/api/v1/driver/tokens/"
CURRENT = "/api/v1/driver/tokens/current/"
PASSWORD = "mallrun"  # tests.factories.UserFactory


def sign_in(username, password=PASSWORD, **extra):
    return APIClient().post(
        TOKENS, {"username": username, "password": password, **extra}, format="json"
    )


def bearer(raw):
    c = APIClient()
    c.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return c


def set_status(driver, status, reason=""):
    Driver.objects.filter(pk=driver.pk).update(
        status=status, status_reason=reason, is_online=False, online_mall=None
    )


@pytest.fixture
def token_api(driver):
    _, raw = driver_token_create(driver=driver, name="Pixel 8")
    return bearer(raw)


@pytest.fixture
def held_route(driver, place_order, stock, system):
    """A route the driver has accepted (an accepted order on it)."""
    from drivers.services import offer_accept, route_offer, route_plan
    from orders import services as s

    order = place_order(stock)
    s.order_accept(order=order, actor=system)
    route = route_plan(mall=order.store.mall, orders=[order], actor=system)
    offer_accept(
        offer=route_offer(route=route, driver=driver, actor=system),
        actor=Actor.driver(driver.user),
    )
    return route


# --- Signing in -------------------------------------------------------------------------


def test_a_driver_signs_in_and_the_token_is_shown_once_and_stored_hashed(driver):
    response = sign_in("dan-driver", name="Pixel 8")
    assert response.status_code == 201, response.json()
    body = response.json()
    raw = body["token"]
    assert raw.startswith("mrd_") and body["prefix"] == raw[:12]
    assert body["name"] == "Pixel 8" and body["driver"] == "dan-driver"
    token = DriverToken.objects.get(driver=driver)
    assert token.token_hash == hash_key(raw) and raw not in (token.prefix, token.token_hash)
    entry = AuditEntry.objects.get(action="drivertoken.create")
    assert raw not in str(entry.after) and token.token_hash not in str(entry.after)


def test_a_pending_driver_may_sign_in(driver):
    set_status(driver, Driver.Status.PENDING)
    assert sign_in("dan-driver").status_code == 201


def test_a_wrong_password_is_a_401_problem_and_makes_no_token(driver):
    response = sign_in("dan-driver", "not-it")
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["detail"] == "Wrong username or password."
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert sign_in("nobody-at-all").status_code == 401
    assert not DriverToken.objects.exists()


def test_a_non_driver_with_the_right_password_is_a_403(shopper):
    response = sign_in("alice")
    assert response.status_code == 403
    assert "Only drivers" in response.json()["detail"]
    assert not DriverToken.objects.exists()


@pytest.mark.parametrize("status", [Driver.Status.SUSPENDED, Driver.Status.REJECTED])
def test_a_suspended_or_rejected_driver_cannot_sign_in(driver, status):
    set_status(driver, status, "Late twice")
    response = sign_in("dan-driver")
    assert response.status_code == 403
    assert "Late twice" in response.json()["detail"]
    assert not DriverToken.objects.exists()


def test_wrong_passwords_are_throttled_per_username_even_with_the_right_one(driver, settings):
    settings.MALLRUN_LOGIN_FAILURES_PER_USER = 3
    for _ in range(2):
        assert sign_in("dan-driver", "guess").status_code == 401
    # The failure that reaches the limit already says so.
    assert sign_in("dan-driver", "guess").status_code == 429
    refused = sign_in("dan-driver")
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0 and refused.json()["retry_after"] > 0
    assert not DriverToken.objects.exists()


def test_the_address_limit_counts_guesses_across_usernames(driver, other_driver, settings):
    settings.MALLRUN_LOGIN_FAILURES_PER_IP = 2
    assert sign_in("someone", "guess").status_code == 401
    assert sign_in("someone-else", "guess").status_code == 429
    assert sign_in("erin-driver").status_code == 429


def test_the_web_login_and_the_app_share_one_lock(client, driver, settings):
    settings.MALLRUN_LOGIN_FAILURES_PER_USER = 2
    for _ in range(2):
        client.post("/accounts/login/", {"username": "dan-driver", "password": "guess"})
    assert sign_in("dan-driver").status_code == 429


def test_successful_sign_ins_do_not_count_as_failures(driver, settings):
    settings.MALLRUN_LOGIN_FAILURES_PER_USER = 2
    for _ in range(4):
        assert sign_in("dan-driver").status_code == 201


def test_sign_in_fields_are_checked(db):
    response = APIClient().post(TOKENS, {"username": "dan-driver"}, format="json")
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["password"]


# --- Using the token -----------------------------------------------------------------------


def test_the_token_works_on_the_driver_endpoints(token_api, held_route):
    routes = token_api.get("/api/v1/driver/routes/")
    assert routes.status_code == 200
    assert [r["id"] for r in routes.json()] == [held_route.pk]
    assert token_api.get(f"/api/v1/driver/routes/{held_route.pk}/").status_code == 200
    arrived = token_api.post(f"/api/v1/driver/routes/{held_route.pk}/arrive/")
    assert arrived.status_code == 200 and arrived.json()["status"] == "picking_up"
    assert DriverToken.objects.get().last_used_at is not None


def test_another_drivers_route_with_a_token_is_a_404(other_driver, held_route):
    _, raw = driver_token_create(driver=other_driver)
    api = bearer(raw)
    assert api.get(f"/api/v1/driver/routes/{held_route.pk}/").status_code == 404
    assert api.post(f"/api/v1/driver/routes/{held_route.pk}/arrive/").status_code == 404
    assert api.get("/api/v1/driver/routes/").json() == []


def test_an_api_key_is_refused_on_driver_endpoints(partner_api, retailer_api):
    for api in (partner_api, retailer_api):
        response = api.get("/api/v1/driver/offers/")
        assert response.status_code == 401
        assert "API keys don't work on driver endpoints" in response.json()["detail"]
        assert api.delete(CURRENT).status_code == 401


@pytest.mark.parametrize(
    "method,path",
    [
        ("get", "/api/v1/orders/"),
        ("post", "/api/v1/quotes/"),
        ("get", "/api/v1/webhooks/endpoints/"),
        ("get", "/api/v1/availability/?zip_code=89109"),
    ],
)
def test_a_driver_token_is_refused_on_partner_and_retailer_endpoints(token_api, method, path):
    response = getattr(token_api, method)(path)
    assert response.status_code == 401
    assert response.json()["detail"] == "This API key is unknown or revoked."


def test_a_driver_token_is_refused_on_a_retailers_store_endpoints(token_api, store):
    assert token_api.get(f"/api/v1/stores/{store.pk}/orders/").status_code == 401


def test_a_revoked_token_is_a_401(driver, token_api):
    driver_token_revoke(token=DriverToken.objects.get(), actor=Actor.system())
    response = token_api.get("/api/v1/driver/offers/")
    assert response.status_code == 401
    assert "unknown or revoked" in response.json()["detail"]


def test_an_unknown_token_is_a_401(db):
    assert bearer("mrd_nothing-like-it").get("/api/v1/driver/offers/").status_code == 401


def test_a_suspended_drivers_token_is_a_403_with_the_reason(driver, token_api):
    from drivers.services import driver_review

    driver_review(
        driver=driver,
        actor=Actor.ops(f.UserFactory(username="olivia-ops", is_staff=True)),
        status=Driver.Status.SUSPENDED,
        reason="Repeated late deliveries",
    )
    response = token_api.get("/api/v1/driver/routes/")
    assert response.status_code == 403
    detail = response.json()["detail"]
    assert "suspended" in detail and "Repeated late deliveries" in detail
    driver.status = Driver.Status.APPROVED
    driver.save(update_fields=["status"])
    assert token_api.get("/api/v1/driver/routes/").status_code == 200


def test_a_deactivated_user_token_is_a_401(driver, token_api):
    driver.user.is_active = False
    driver.user.save(update_fields=["is_active"])
    assert token_api.get("/api/v1/driver/routes/").status_code == 401


def test_the_session_still_works_and_no_credentials_is_a_401(driver, db):
    c = APIClient()
    assert c.get("/api/v1/driver/offers/").status_code == 401
    c.force_login(driver.user)
    assert c.get("/api/v1/driver/offers/").status_code == 200


# --- Signing out -----------------------------------------------------------------------------


def test_signing_out_revokes_the_token_used_and_only_that_one(driver, token_api):
    _, other_raw = driver_token_create(driver=driver, name="Tablet")
    response = token_api.delete(CURRENT)
    assert response.status_code == 200
    assert response.json()["revoked_at"] is not None and response.json()["name"] == "Pixel 8"
    assert token_api.get("/api/v1/driver/offers/").status_code == 401
    assert token_api.delete(CURRENT).status_code == 401
    assert bearer(other_raw).get("/api/v1/driver/offers/").status_code == 200
    assert AuditEntry.objects.filter(action="drivertoken.revoke").count() == 1


def test_signing_out_needs_the_token_not_a_session(driver):
    c = APIClient()
    c.force_login(driver.user)
    assert c.delete(CURRENT).status_code == 401


def test_a_suspended_driver_can_still_sign_the_app_out(driver, token_api):
    set_status(driver, Driver.Status.SUSPENDED)
    assert token_api.delete(CURRENT).status_code == 200
    assert DriverToken.objects.get().revoked_at is not None


def test_ops_revoke_a_token_in_admin(client, ops_user, driver, token_api):
    ops_user.is_superuser = True
    ops_user.save(update_fields=["is_superuser"])
    client.force_login(ops_user)
    token = DriverToken.objects.get()
    page = client.get(reverse("admin:orders_drivertoken_change", args=[token.pk]))
    assert page.status_code == 200 and token.token_hash not in page.text
    client.post(
        reverse("admin:orders_drivertoken_changelist"),
        {"action": "revoke_selected", "_selected_action": [token.pk]},
    )
    assert DriverToken.objects.get().revoked_at is not None
    assert token_api.get("/api/v1/driver/offers/").status_code == 401


def test_a_suspended_driver_signed_in_on_the_web_is_refused_on_the_api_too(client, driver):
    driver.status, driver.status_reason, driver.is_online = "suspended", "Late twice", False
    driver.save(update_fields=["status", "status_reason", "is_online"])
    client.force_login(driver.user)
    response = client.get("/api/v1/driver/offers/")
    assert response.status_code == 403
    assert "suspended" in response.json()["detail"] and "Late twice" in response.json()["detail"]
