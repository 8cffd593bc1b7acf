"""Login throttling: guessing a password locks the account name and the address for a while."""

import pytest
from django.contrib.auth import authenticate
from django.urls import reverse

from config import login_throttle
from tests import factories as f


@pytest.fixture
def user(db):
    u = f.UserFactory(username="carol")
    u.set_password("right-password-1")
    u.save()
    return u


def _login(client, username, password, ip="203.0.113.5"):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip
    )


def test_four_wrong_passwords_still_allow_the_right_one(client, user):
    for _ in range(4):
        assert _login(client, "carol", "nope").status_code == 200
    response = _login(client, "carol", "right-password-1")
    assert response.status_code == 302


def test_the_fifth_failure_locks_the_account_with_a_clear_message(client, user):
    for _ in range(4):
        _login(client, "carol", "nope")
    fifth = _login(client, "carol", "nope")
    assert fifth.status_code == 429
    assert "Too many failed sign-in attempts. Try again in 15 minutes" in fifth.text
    # While locked even the right password is refused, and nothing logs in.
    locked = _login(client, "carol", "right-password-1")
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_lock_is_per_account_name_whatever_its_case_or_address(client, user):
    for attempt in range(5):
        _login(client, "Carol", "nope", ip=f"198.51.100.{attempt}")
    assert _login(client, "carol", "right-password-1", ip="192.0.2.9").status_code == 429


def test_the_lock_ends_after_the_window(client, user, monkeypatch):
    import datetime as dt

    from django.utils import timezone

    for _ in range(5):
        _login(client, "carol", "nope")
    later = timezone.now() + dt.timedelta(minutes=15, seconds=1)
    monkeypatch.setattr(login_throttle.timezone, "now", lambda: later)
    assert _login(client, "carol", "right-password-1").status_code == 302


def test_a_success_clears_the_count(client, user):
    for _ in range(4):
        _login(client, "carol", "nope")
    assert _login(client, "carol", "right-password-1").status_code == 302
    client.logout()
    for _ in range(4):
        assert _login(client, "carol", "nope").status_code == 200
    assert _login(client, "carol", "right-password-1").status_code == 302


def test_one_address_trying_many_accounts_is_locked(client, user, settings):
    settings.MALLRUN_LOGIN_FAILURES_PER_IP = 6
    for n in range(6):
        _login(client, f"someone{n}", "password123")
    response = _login(client, "carol", "right-password-1")
    assert response.status_code == 429
    # Another address is not affected.
    assert _login(client, "carol", "right-password-1", ip="192.0.2.200").status_code == 302


def test_admin_login_shares_the_lock(client, user):
    user.is_staff = True
    user.save()
    for _ in range(5):
        client.post(reverse("admin:login"), {"username": "carol", "password": "nope"})
    response = client.post(
        reverse("admin:login"), {"username": "carol", "password": "right-password-1"}
    )
    assert response.status_code == 200
    assert "Too many failed sign-in attempts" in response.text
    assert "_auth_user_id" not in client.session


def test_authenticate_itself_refuses_while_locked(user):
    for _ in range(5):
        assert authenticate(username="carol", password="nope") is None
    assert authenticate(username="carol", password="right-password-1") is None


def test_behind_the_load_balancer_the_address_is_the_one_it_appended(rf, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    request = rf.get("/", HTTP_X_FORWARDED_FOR="10.9.9.9, 203.0.113.77", REMOTE_ADDR="10.0.0.2")
    assert login_throttle.client_ip(request) == "203.0.113.77"
    settings.SECURE_PROXY_SSL_HEADER = None
    assert login_throttle.client_ip(request) == "10.0.0.2"


def test_successes_from_a_shared_address_dont_use_up_its_budget(client, db, settings):
    settings.MALLRUN_LOGIN_FAILURES_PER_IP = 3
    for n in range(6):  # six drivers on the mall's Wi-Fi sign in one after another
        u = f.UserFactory(username=f"driver{n}")
        u.set_password("right-password-1")
        u.save()
        assert _login(client, f"driver{n}", "right-password-1").status_code == 302
        client.logout()


def test_a_password_reset_lifts_the_lock(client, user, mailoutbox):
    import re

    user.email = "carol@example.com"
    user.save()
    for _ in range(5):
        _login(client, "carol", "nope")
    assert _login(client, "carol", "right-password-1").status_code == 429
    client.post(reverse("password_reset"), {"email": "carol@example.com"})
    link = re.search(r"http://testserver(/accounts/reset/\S+/)", mailoutbox[0].body).group(1)
    form_url = client.get(link).url
    response = client.post(
        form_url, {"new_password1": "brand-new-pass-42", "new_password2": "brand-new-pass-42"}
    )
    assert response.status_code == 302
    assert _login(client, "carol", "brand-new-pass-42").status_code == 302


def test_parallel_guesses_cant_all_be_tried(user, monkeypatch):
    """The place in the count is taken before the password is checked: with five guesses
    already under way (not yet answered), a sixth is refused without being tried."""
    for _ in range(5):
        assert login_throttle.reserve(None, "carol") == 0
    tried = []
    monkeypatch.setattr(
        "django.contrib.auth.backends.ModelBackend.authenticate",
        lambda self, *a, **k: tried.append(1),
    )
    assert authenticate(username="carol", password="right-password-1") is None
    assert tried == []
    assert login_throttle.locked_for(None, "carol") > 0


def test_old_counts_are_cleared_by_housekeeping(user, monkeypatch):
    import datetime as dt

    from django.utils import timezone

    from orders.models import SignInThrottle

    _ = authenticate(username="carol", password="nope")
    assert SignInThrottle.objects.count() == 1
    later = timezone.now() + dt.timedelta(minutes=16)
    monkeypatch.setattr(login_throttle.timezone, "now", lambda: later)
    assert login_throttle.housekeeping() == 1
    assert not SignInThrottle.objects.exists()
