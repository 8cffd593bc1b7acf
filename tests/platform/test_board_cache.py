"""The polled boards share one render for a few seconds, and drop it when an order changes."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from orders import services as s
from orders.board_cache import CSRF_PLACEHOLDER
from retailers.models import StoreMembership
from tests import factories as f


@pytest.fixture(autouse=True)
def _cache_on(settings):
    settings.MALLRUN_BOARD_CACHE_SECONDS = 30


def _order_queries(client, url):
    with CaptureQueriesContext(connection) as q:
        response = client.get(url)
    assert response.status_code == 200
    return response, [x["sql"] for x in q.captured_queries if '"orders_order"' in x["sql"]]


def test_the_store_board_is_rendered_once_and_shared(client, manager, store, stock, place_order):
    order = place_order(stock)
    client.force_login(manager)
    url = reverse("store:board", args=[store.slug])
    first, first_queries = _order_queries(client, url)
    second, second_queries = _order_queries(client, url)
    assert first_queries and not second_queries  # the second came from the shared render
    assert order.number in second.text


def test_an_order_change_shows_on_the_board_at_once(
    client, manager, store, stock, place_order, system, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        order = place_order(stock)
    client.force_login(manager)
    url = reverse("store:board", args=[store.slug])
    client.get(url)
    with django_capture_on_commit_callbacks(execute=True):
        s.order_accept(order=order, actor=system)
    response, queries = _order_queries(client, url)
    assert queries  # rendered again
    accepted = response.text.split('id="col-accepted"')[1].split("</section>")[0]
    assert order.number in accepted


def test_each_viewer_gets_their_own_csrf_token_in_a_shared_render(
    manager, store, stock, place_order
):
    order = place_order(stock)
    colleague = f.MembershipFactory(store=store, role=StoreMembership.Role.MANAGER).user
    url = reverse("store:board", args=[store.slug])
    tokens = []
    for user in (manager, colleague):
        browser = Client(enforce_csrf_checks=True)
        browser.force_login(user)
        page = browser.get(url).text
        assert CSRF_PLACEHOLDER not in page
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        tokens.append(token)
        last = (browser, token)
    assert tokens[0] != tokens[1]
    # The colleague's token, out of the shared render, is accepted for their own POST.
    browser, token = last
    response = browser.post(
        reverse("store:order_accept", args=[store.slug, order.number]),
        {"prep_minutes": 10, "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == "accepted"


def test_the_htmx_poll_gets_the_same_shared_columns(client, manager, store, stock, place_order):
    place_order(stock)
    client.force_login(manager)
    url = reverse("store:board", args=[store.slug])
    client.get(url)
    poll, queries = _order_queries(client, url)
    partial = client.get(url, headers={"HX-Request": "true"})
    assert partial.status_code == 200
    assert partial.text.lstrip().startswith('<div id="board"')
    assert "<html" not in partial.text


def test_the_ops_board_is_shared_and_refreshed_by_an_intervention(
    ops_user, client, store, stock, place_order
):
    order = place_order(stock)
    client.force_login(ops_user)
    url = reverse("ops:board", args=[store.mall.slug])
    _, first = _order_queries(client, url)
    _, second = _order_queries(client, url)
    assert first and not second
    response = client.post(
        reverse("ops:order_cancel", args=[order.number]), {"reason": "Shopper called"}
    )
    assert response.status_code == 302
    page, third = _order_queries(client, url)
    assert third  # rendered again after the intervention
    order.refresh_from_db()
    assert order.status == "cancelled"


def test_with_zero_seconds_every_request_renders(client, manager, store, settings):
    settings.MALLRUN_BOARD_CACHE_SECONDS = 0
    client.force_login(manager)
    url = reverse("store:board", args=[store.slug])
    _, first = _order_queries(client, url)
    _, second = _order_queries(client, url)
    assert first and second


# --- The page around the live part is kept per person and page ------------------------------


def _frame_rendered(response, template) -> bool:
    return template in [t.name for t in response.templates]


def test_the_board_page_frame_is_kept_and_gets_a_fresh_token_and_nonce(client, manager, store):
    client.force_login(manager)
    url = reverse("store:board", args=[store.slug])
    first = client.get(url)
    second = client.get(url)
    assert _frame_rendered(first, "retailers/board.html")
    assert not _frame_rendered(second, "retailers/board.html")
    for response in (first, second):
        nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"]).group(1)
        assert f'nonce="{nonce}"' in response.text  # the htmx script tag runs
        assert "placeholder" not in response.text
        assert "mallrun-hole" not in response.text
        assert 'id="board"' in response.text
    nonces = [re.search(r'nonce="([^"]+)"', r.text).group(1) for r in (first, second)]
    assert nonces[0] != nonces[1]


def test_a_new_role_shows_in_the_frame_at_once(client, manager, store):
    client.force_login(manager)
    url = reverse("store:board", args=[store.slug])
    catalog = reverse("store:catalog", args=[store.slug])
    assert catalog in client.get(url).text
    StoreMembership.objects.filter(user=manager, store=store).update(
        role=StoreMembership.Role.ASSOCIATE
    )
    assert catalog not in client.get(url).text


def test_a_page_with_a_message_is_rendered_and_shows_it(client, manager, store, stock, place_order):
    order = place_order(stock)
    client.force_login(manager)
    url = reverse("store:board", args=[store.slug])
    client.get(url)  # the frame is kept
    client.post(
        reverse("store:order_accept", args=[store.slug, order.number]), {"prep_minutes": 10}
    )
    shown = client.get(url)
    assert _frame_rendered(shown, "retailers/board.html")
    assert 'class="messages"' in shown.text
    assert 'class="messages"' not in client.get(url).text  # shown once


def test_one_persons_frame_is_never_shown_to_another(client, manager, store):
    colleague = f.MembershipFactory(store=store, role=StoreMembership.Role.ASSOCIATE).user
    url = reverse("store:board", args=[store.slug])
    client.force_login(manager)
    assert f"Log out {manager.username}" in client.get(url).text
    client.force_login(colleague)
    page = client.get(url).text
    assert f"Log out {colleague.username}" in page
    assert f"Log out {manager.username}" not in page


def test_the_ops_board_frame_is_kept(client, ops_user, store):
    client.force_login(ops_user)
    url = reverse("ops:board", args=[store.mall.slug])
    first, second = client.get(url), client.get(url)
    assert _frame_rendered(first, "ops/board.html")
    assert not _frame_rendered(second, "ops/board.html")
    assert 'id="ops-board"' in second.text


def test_the_placeholders_come_from_the_secret_key_not_the_source(settings):
    """A product title or recipient name carrying a placeholder would get a viewer's token or
    nonce written into it: the placeholders can't be known without the secret key."""
    from orders import board_cache

    assert board_cache._placeholder("csrf") == CSRF_PLACEHOLDER
    settings.SECRET_KEY = "another secret key, another deployment" * 2
    assert board_cache._placeholder("csrf") != CSRF_PLACEHOLDER
    assert board_cache._placeholder("nonce") != board_cache.NONCE_PLACEHOLDER
