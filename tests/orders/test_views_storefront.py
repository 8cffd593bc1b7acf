"""The shopper's pages: where to deliver, what's on the shelves nearby, one product, signing
up, and tracking (only ever one's own orders), plus the messages a shopper chose to get."""

import datetime as dt
import re

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from drivers.models import ProofOfDelivery
from orders.cart import SESSION_KEY, cart_add
from orders.checkout import checkout_cart
from orders.models import Cart, Order, OrderEvent, Payment, Shopper
from orders.notifications import LocmemSmsBackend, notify_shopper
from orders.payments import Card
from orders.views import LOCATION_KEY, PAGE_SIZE
from retailers import clock
from retailers.models import Product, Stock
from tests import factories as f

# 11:00 am in Las Vegas on a Wednesday.
NOW = dt.datetime(2026, 11, 25, 19, 0, tzinfo=dt.UTC)
VEGAS = {"latitude": 36.1400, "longitude": -115.1500, "label": "Las Vegas, NV 89109"}


@pytest.fixture(autouse=True)
def frozen(settings):
    # The test address is 2.4 km from the mall: 3.1 road km at 25 km/h is 7.5 minutes, so a
    # promise is 15 prep + 7.5 + 15 buffer = 37.5 minutes → 11:40 am in Las Vegas.
    settings.MALLRUN_ROAD_FACTOR = 1.3
    settings.MALLRUN_SPEED_KMH = 25
    settings.MALLRUN_PROMISE_BUFFER_MINUTES = 15
    settings.MALLRUN_TRAVEL_PROVIDER = "retailers.geo.StraightLineProvider"
    with clock.frozen_at(NOW):
        yield NOW


@pytest.fixture
def in_vegas(client, db):
    """A visitor who already said where to deliver."""
    session = client.session
    session[LOCATION_KEY] = {**VEGAS, "zip_code": "89109"}
    session.save()
    return client


@pytest.fixture
def far_stock(db):
    mall = f.MallFactory(
        name="Hudson Yards", timezone="America/New_York", latitude=40.7536, longitude=-74.0014
    )
    return f.StockFactory(store=f.StoreFactory(mall=mall), product__title="Far Away Hat")


def titles(response):
    return [row.product.title for row in response.context["rows"]]


# --- Home -------------------------------------------------------------------------------------


def test_a_zip_code_is_remembered_and_leads_to_whats_available(client, mall):
    response = client.post(reverse("shop:home"), {"where": "89109"})

    assert response.status_code == 302
    assert response["Location"] == reverse("shop:availability")
    location = client.session[LOCATION_KEY]
    assert (location["zip_code"], location["label"]) == ("89109", "Las Vegas, NV 89109")
    assert location["latitude"] == pytest.approx(36.126, abs=0.01)
    home = client.get(reverse("shop:home"))
    assert 'value="89109"' in home.text
    assert "Delivering to Las Vegas, NV 89109" in home.text


def test_shared_coordinates_are_remembered_without_a_zip(client, mall):
    response = client.post(
        reverse("shop:home"), {"where": "", "latitude": "36.14", "longitude": "-115.15"}
    )

    assert response.status_code == 302
    assert client.session[LOCATION_KEY]["label"] == "your current location"


@pytest.mark.parametrize(
    ("where", "error"),
    [
        ("00000", "We couldn&#x27;t find ZIP code 00000. Check it and try again."),
        ("Vegas baby", "Enter a 5-digit US ZIP code, e.g. 89109."),
        ("", "Enter a ZIP code, or use your location."),
    ],
)
def test_a_bad_zip_is_shown_next_to_the_field_and_kept(client, mall, where, error):
    response = client.post(reverse("shop:home"), {"where": where})

    assert response.status_code == 200
    assert f'<p class="error" id="where-error" role="alert">{error}</p>' in response.text
    assert 'aria-invalid="true"' in response.text
    assert f'value="{where}"' in response.text
    assert LOCATION_KEY not in client.session


# --- Availability -----------------------------------------------------------------------


def test_without_a_location_the_shopper_is_asked_for_one(client, mall):
    response = client.get(reverse("shop:availability"))

    assert response.status_code == 302
    assert response["Location"] == reverse("shop:home")


def test_a_zip_in_the_url_sets_the_location(client, stock):
    response = client.get(reverse("shop:availability"), {"zip": "89109"})

    assert response.status_code == 200
    assert client.session[LOCATION_KEY]["zip_code"] == "89109"
    assert titles(response) == [stock.product.title]


def test_a_bad_zip_in_the_url_goes_home_with_the_message(client, mall):
    response = client.get(reverse("shop:availability"), {"zip": "00000"}, follow=True)

    assert response.redirect_chain[-1][0] == reverse("shop:home")
    assert "We couldn&#x27;t find ZIP code 00000" in response.text


def test_only_in_stock_products_of_malls_serving_the_address_are_listed(
    in_vegas, store, other_store, far_stock, driver
):
    f.StockFactory(store=store, product__title="Lipstick")
    f.StockFactory(store=other_store, product__title="Sneaker", on_hand=2)
    f.StockFactory(store=store, product__title="Sold Out Blush", on_hand=3, reserved=3)
    f.StockFactory(store=store, product__title="Retired Mascara", product__is_active=False)
    f.StockFactory(
        store=f.StoreFactory(mall=f.MallFactory(is_active=False)), product__title="Closed Mall Bag"
    )

    response = in_vegas.get(reverse("shop:availability"))

    assert titles(response) == ["Lipstick", "Sneaker"]
    assert "Only 2 left" in response.text
    assert "Arrives today by 11:40 am" in response.text
    assert [m.name for m in response.context["malls"]] == ["Fashion Show"]


def test_an_address_no_mall_serves_says_so(client, far_stock):
    session = client.session
    session[LOCATION_KEY] = {**VEGAS, "zip_code": "89109"}
    session.save()

    response = client.get(reverse("shop:availability"))

    assert "No mall delivers to Las Vegas, NV 89109 yet." in response.text


def test_a_store_that_cant_deliver_says_why_instead_of_a_promise(in_vegas, stock):
    # No driver is online at the mall.
    response = in_vegas.get(reverse("shop:availability"))

    assert "No drivers are delivering from Fashion Show right now." in response.text
    assert "Arrives today" not in response.text


@pytest.fixture
def catalog(store, other_store):
    rows = {
        "lipstick": f.StockFactory(
            store=store,
            product__title="Velvet Lipstick",
            product__sku="LIP-001",
            product__category="Makeup",
            product__price_cents=2400,
        ),
        "mascara": f.StockFactory(
            store=store,
            product__title="Lash Mascara",
            product__sku="MAS-002",
            product__category="Makeup",
            product__price_cents=1800,
        ),
        "runner": f.StockFactory(
            store=other_store,
            product__title="Air Runner",
            product__sku="RUN-003",
            product__category="Shoes",
            product__price_cents=12000,
        ),
        "socks": f.StockFactory(
            store=other_store,
            product__title="Crew Socks",
            product__sku="SOC-004",
            product__category="Accessories",
            product__price_cents=1200,
        ),
    }
    far_mall = f.MallFactory(latitude=40.75, longitude=-74.0, timezone="America/New_York")
    f.StockFactory(
        store=f.StoreFactory(mall=far_mall),
        product__title="Far Lipstick",
        product__category="Makeup",
    )
    return rows


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "lipstick"}, ["Velvet Lipstick"]),
        ({"q": "mas-002"}, ["Lash Mascara"]),
        ({"q": "makeup"}, ["Lash Mascara", "Velvet Lipstick"]),
        ({"q": "velvet lip"}, ["Velvet Lipstick"]),
        ({"q": "nothing-like-this"}, []),
        ({"category": "Shoes"}, ["Air Runner"]),
        ({"store": "__other__"}, ["Air Runner", "Crew Socks"]),
        ({"mall": "fashion-show"}, ["Air Runner", "Crew Socks", "Lash Mascara", "Velvet Lipstick"]),
        ({"min": "15", "max": "25"}, ["Lash Mascara", "Velvet Lipstick"]),
        ({"max": "12"}, ["Crew Socks"]),
        ({"min": "nonsense"}, ["Air Runner", "Crew Socks", "Lash Mascara", "Velvet Lipstick"]),
        ({"sort": "price"}, ["Crew Socks", "Lash Mascara", "Velvet Lipstick", "Air Runner"]),
        ({"sort": "-price"}, ["Air Runner", "Velvet Lipstick", "Lash Mascara", "Crew Socks"]),
        ({"sort": "store", "category": "Makeup"}, ["Lash Mascara", "Velvet Lipstick"]),
        ({"sort": "bogus"}, ["Air Runner", "Crew Socks", "Lash Mascara", "Velvet Lipstick"]),
    ],
)
def test_search_filters_and_sorting(in_vegas, catalog, other_store, params, expected):
    if params.get("store") == "__other__":
        params = {"store": other_store.slug}

    response = in_vegas.get(reverse("shop:availability"), params)

    assert titles(response) == expected


def test_the_filters_are_kept_in_the_page(in_vegas, catalog):
    response = in_vegas.get(
        reverse("shop:availability"), {"q": "lip", "category": "Makeup", "sort": "-price"}
    )

    assert 'value="lip"' in response.text
    assert "<option selected>Makeup</option>" in response.text
    assert '<option value="-price" selected>' in response.text
    assert response.context["categories"]  # only the serving malls' categories
    assert list(response.context["categories"]) == ["Accessories", "Makeup", "Shoes"]


@pytest.fixture
def frames(settings, monkeypatch):
    """Listings and frames kept as in production; the names of the pages rendered."""
    from orders import board_cache

    settings.MALLRUN_LISTING_CACHE_SECONDS = 30
    rendered = []
    real = board_cache.render_to_string

    def spy(template, *args, **kwargs):
        rendered.append(template)
        return real(template, *args, **kwargs)

    monkeypatch.setattr(board_cache, "render_to_string", spy)
    return rendered


def test_the_availability_frame_is_rendered_once_per_visitor_place_and_query(
    in_vegas, catalog, frames
):
    url = reverse("shop:availability")
    first = in_vegas.get(url, {"q": "lip"})
    again = in_vegas.get(url, {"q": "lip"})
    assert frames == ["storefront/availability.html"]
    assert again.text.count("Velvet Lipstick") == first.text.count("Velvet Lipstick") > 0
    assert 'value="lip"' in again.text
    assert "Delivering to Las Vegas, NV 89109" in again.text
    other = in_vegas.get(url, {"q": "mascara"})
    assert len(frames) == 2
    assert 'value="mascara"' in other.text and "Lash Mascara" in other.text


def test_a_kept_availability_frame_is_never_another_visitors(in_vegas, catalog, shopper, frames):
    from django.test import Client

    url = reverse("shop:availability")
    assert "Las Vegas, NV 89109" in in_vegas.get(url).text
    stranger = Client()
    session = stranger.session
    session[LOCATION_KEY] = {**VEGAS, "label": "your current location"}
    session.save()
    page = stranger.get(url).text
    assert "your current location" in page and "NV 89109" not in page
    in_vegas.force_login(shopper.user)
    assert f"Log out {shopper.user.get_username()}" in in_vegas.get(url).text
    assert "Log out" not in stranger.get(url).text
    tokens = {
        re.search(r'"X-CSRFToken": "([^"]+)"', visitor.get(url).text).group(1)
        for visitor in (in_vegas, stranger)
    }
    assert len(tokens) == 2 and not any("placeholder" in t for t in tokens)


def test_a_cart_change_shows_in_the_kept_frame_at_once(in_vegas, catalog, frames):
    url = reverse("shop:availability")
    assert "Cart (1)" not in in_vegas.get(url).text
    in_vegas.post(
        reverse("shop:cart_add"),
        {"stock": catalog["lipstick"].pk, "quantity": 1, "next": url},
    )
    with_message = in_vegas.get(url).text
    assert "Added Velvet Lipstick" in with_message and "Cart (1)" in with_message
    kept = in_vegas.get(url).text
    assert "Cart (1)" in kept and "Added Velvet Lipstick" not in kept


def make_products(store, n, start=0):
    products = Product.objects.bulk_create(
        Product(
            retailer=store.retailer,
            sku=f"BULK-{i:05d}",
            title=f"Bulk item {i:05d}",
            price_cents=500 + i,
            category="Bulk",
        )
        for i in range(start, start + n)
    )
    Stock.objects.bulk_create(Stock(store=store, product=p, on_hand=5) for p in products)


def test_results_are_paged_with_the_filters_in_the_links(in_vegas, store):
    make_products(store, PAGE_SIZE + 6)

    first = in_vegas.get(reverse("shop:availability"), {"q": "bulk"})
    second = in_vegas.get(reverse("shop:availability"), {"q": "bulk", "page": "2"})
    beyond = in_vegas.get(reverse("shop:availability"), {"q": "bulk", "page": "99"})

    assert len(titles(first)) == PAGE_SIZE
    assert titles(second) == [f"Bulk item {i:05d}" for i in range(PAGE_SIZE, PAGE_SIZE + 6)]
    assert titles(beyond) == titles(second)
    assert "Page 1 of 2" in first.text
    assert 'href="?q=bulk&page=2"' in first.text
    assert f"{PAGE_SIZE + 6} items in stock" in first.text


def test_a_live_search_gets_only_the_results(in_vegas, catalog):
    response = in_vegas.get(reverse("shop:availability"), {"q": "socks"}, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert "<html" not in response.text
    assert response.text.lstrip().startswith('<div id="results"')
    assert "Crew Socks" in response.text
    assert "Velvet Lipstick" not in response.text
    assert "HX-Request" in response["Vary"]
    full = in_vegas.get(reverse("shop:availability"), {"q": "socks"})
    assert "<html" in full.text


# Session, user, cart count, malls, the page and its count, stores with hours, closures and
# fee tiers, the stores' queues and the mall's drivers, filter choices: none per product.
QUERIES = 14


@pytest.mark.parametrize("products", [10, 1000])
def test_availability_takes_the_same_queries_for_10_or_1000_products(
    in_vegas, mall, driver, products, django_assert_max_num_queries
):
    stores = [f.StoreFactory(mall=mall) for _ in range(5)]
    per_store = products // len(stores)
    for index, store in enumerate(stores):
        make_products(store, per_store, start=index * per_store)

    with django_assert_max_num_queries(QUERIES):
        response = in_vegas.get(reverse("shop:availability"))

    assert response.context["page"].paginator.count == products
    assert len(titles(response)) == min(products, PAGE_SIZE)


# --- Product page -----------------------------------------------------------------------


def test_the_product_page_shows_stock_per_store_near_the_shopper(
    in_vegas, store, other_store, driver
):
    row = f.StockFactory(store=store, on_hand=12, product__title="Velvet Lipstick")
    f.StockFactory(store=other_store, product=row.product, on_hand=2)
    sold_out = f.StoreFactory(mall=store.mall)
    f.StockFactory(store=sold_out, product=row.product, on_hand=1, reserved=1)
    far = f.MallFactory(latitude=40.75, longitude=-74.0, timezone="America/New_York")
    f.StockFactory(store=f.StoreFactory(mall=far, name="Far Store"), product=row.product)

    response = in_vegas.get(reverse("shop:product", args=[row.product_id]))

    assert response.status_code == 200
    text = re.sub(r"\s+", " ", response.text)
    assert f"<strong>{store.name}</strong> · Fashion Show<br> 12 in stock" in text
    assert (
        f'<strong>{other_store.name}</strong> · Fashion Show<br> <span class="low">Only 2 left'
        in text
    )
    assert f'<strong>{sold_out.name}</strong> · Fashion Show<br> <span class="low">Sold out' in text
    assert "Far Store" not in text
    assert "arrives today by 11:40 am" in text


def test_a_product_taken_off_sale_is_not_found(client, stock):
    Product.objects.filter(pk=stock.product_id).update(is_active=False)

    assert client.get(reverse("shop:product", args=[stock.product_id])).status_code == 404


# --- Signing up ---------------------------------------------------------------------------


def test_signing_up_makes_a_shopper_and_keeps_the_cart(client, stock):
    client.post(reverse("shop:cart_add"), {"stock": stock.pk, "quantity": 2})

    response = client.post(
        reverse("shop:signup"),
        {
            "username": "carol",
            "first_name": "Carol",
            "email": "Carol@Example.com",
            "phone": "+1 702 555 0111",
            "password1": "a-long-Secret-42",
            "password2": "a-long-Secret-42",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("shop:checkout")
    shopper = Shopper.objects.get(user__username="carol")
    assert (shopper.phone, shopper.user.email) == ("+1 702 555 0111", "carol@example.com")
    cart = Cart.objects.get(user=shopper.user)
    assert [(ln.product_id, ln.quantity) for ln in cart.lines.all()] == [(stock.product_id, 2)]
    assert SESSION_KEY not in client.session
    assert "Cart (2)" in client.get(reverse("shop:cart")).text


def test_signing_up_with_a_taken_email_says_so_and_keeps_what_was_typed(client, shopper):
    response = client.post(
        reverse("shop:signup"),
        {
            "username": "carol",
            "first_name": "Carol",
            "email": shopper.user.email.upper(),
            "phone": "+1 702 555 0111",
            "password1": "a-long-Secret-42",
            "password2": "a-long-Secret-42",
        },
    )

    assert response.status_code == 200
    assert response.context["form"].errors["email"] == [
        "An account with this email exists. Log in instead."
    ]
    assert 'value="carol"' in response.text
    assert not Shopper.objects.filter(user__username="carol").exists()


# --- Tracking -------------------------------------------------------------------------------


@pytest.fixture
def group(shopper, address, stock, other_stock, driver):
    """Alice checked out from both stores with the test card."""
    cart = Cart.objects.create(user=shopper.user)
    cart_add(cart=cart, stock=stock, quantity=2)
    cart_add(cart=cart, stock=other_stock, quantity=1)
    result = checkout_cart(
        user=shopper.user,
        cart=cart,
        address=address,
        phone="+17025550100",
        notify_by="both",
        tip_percent=0,
        card=Card("4242424242424242", 8, 2029, "123"),
        token="tracking-token",
    )
    assert result.placed
    return result.orders[0].group


def orders_of(group):
    return list(Order.objects.filter(group=group).order_by("store__name"))


@pytest.fixture
def alice(client, shopper):
    client.force_login(shopper.user)
    return client


@pytest.fixture
def bob(client, other_shopper):
    client.force_login(other_shopper.user)
    return client


def test_the_shopper_sees_their_orders_with_the_pin(alice, group):
    response = alice.get(reverse("shop:track", args=[group]))

    assert response.status_code == 200
    for order in orders_of(group):
        assert order.number in response.text
        assert f'<strong class="pin">{order.delivery_pin}</strong>' in response.text
    assert "Arrives today by" in response.text
    assert 'hx-trigger="every 10s"' in response.text


def test_another_shopper_gets_a_404_for_the_tracking_page(bob, group):
    assert bob.get(reverse("shop:track", args=[group])).status_code == 404


def test_tracking_needs_a_login(client, group):
    response = client.get(reverse("shop:track", args=[group]))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_polling_goes_on_while_an_order_is_open_and_stops_once_all_are_final(alice, group, advance):
    first, second = orders_of(group)
    url = reverse("shop:track", args=[group])

    advance(first, "delivered")
    live = alice.get(url, HTTP_HX_REQUEST="true")
    assert live.status_code == 200
    assert "<html" not in live.text
    assert live.text.lstrip().startswith('<div id="live"')

    advance(second, "cancelled")
    done = alice.get(url, HTTP_HX_REQUEST="true")
    assert done.status_code == 286
    assert first.number in done.text


def test_cancelling_before_pick_up_releases_stock_and_the_payment_once_nothing_is_left(
    alice, group, stock, other_stock
):
    first, second = orders_of(group)

    response = alice.post(
        reverse("shop:cancel", args=[first.number]), {"reason": "Changed my mind"}, follow=True
    )

    first.refresh_from_db()
    assert first.status == Order.Status.CANCELLED
    assert first.status_reason == "Changed my mind"
    assert f"Order {first.number} is cancelled. You won&#x27;t be charged." in response.text
    assert Payment.objects.get().status == Payment.Status.AUTHORIZED
    released = stock if first.store_id == stock.store_id else other_stock
    assert Stock.objects.get(pk=released.pk).reserved == 0

    alice.post(reverse("shop:cancel", args=[second.number]), {"reason": "Ordered by mistake"})

    assert Stock.objects.get(pk=stock.pk).reserved == 0
    assert Stock.objects.get(pk=other_stock.pk).reserved == 0
    assert Payment.objects.get().status == Payment.Status.VOIDED


def test_cancelling_after_pick_up_is_refused_with_a_message(alice, group, advance):
    order = advance(orders_of(group)[0], "picked_up")

    response = alice.post(
        reverse("shop:cancel", args=[order.number]), {"reason": "Changed my mind"}, follow=True
    )

    order.refresh_from_db()
    assert order.status == Order.Status.PICKED_UP
    assert "is already with the driver; it can&#x27;t be cancelled now." in response.text
    assert Payment.objects.get().status == Payment.Status.AUTHORIZED


def test_cancelling_needs_a_reason(alice, group):
    order = orders_of(group)[0]

    response = alice.post(reverse("shop:cancel", args=[order.number]), {"reason": ""}, follow=True)

    order.refresh_from_db()
    assert order.status == Order.Status.PLACED
    assert "Choose a reason to cancel." in response.text


def test_another_shopper_cannot_cancel(bob, group):
    order = orders_of(group)[0]

    response = bob.post(reverse("shop:cancel", args=[order.number]), {"reason": "Changed my mind"})

    assert response.status_code == 404
    order.refresh_from_db()
    assert order.status == Order.Status.PLACED


@pytest.fixture
def delivered_with_photo(group, advance, driver, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    order = advance(orders_of(group)[0], "delivered")
    ProofOfDelivery.objects.update_or_create(
        order=order,
        defaults={
            "driver": driver,
            "created_at": NOW,
            "photo": SimpleUploadedFile("door.jpg", b"\xff\xd8\xff fake jpeg", "image/jpeg"),
        },
    )
    return order


def test_the_proof_photo_is_for_the_shopper_only(
    client, shopper, other_shopper, delivered_with_photo
):
    url = reverse("shop:proof", args=[delivered_with_photo.number])

    client.force_login(shopper.user)
    mine = client.get(url)
    assert mine.status_code == 200
    assert b"".join(mine.streaming_content) == b"\xff\xd8\xff fake jpeg"
    page = client.get(reverse("shop:track", args=[delivered_with_photo.group]))
    assert url in page.text

    client.force_login(other_shopper.user)
    assert client.get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302


def test_no_photo_is_a_404(alice, group):
    order = orders_of(group)[0]

    assert alice.get(reverse("shop:proof", args=[order.number])).status_code == 404


# --- What the shopper hears -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("choice", "emails", "texts"),
    [("email", 1, 0), ("sms", 0, 1), ("both", 1, 1)],
)
def test_messages_go_the_way_the_shopper_chose(place_order, stock, shopper, choice, emails, texts):
    shopper.notify_by = choice
    shopper.save()
    order = place_order(stock)
    event = OrderEvent.objects.filter(order=order, to_status=Order.Status.PLACED).get()
    mail.outbox.clear()
    LocmemSmsBackend.outbox.clear()

    assert notify_shopper(event)

    assert len(mail.outbox) == emails
    assert len(LocmemSmsBackend.outbox) == texts
    sent = [m.body for m in mail.outbox] + [s.body for s in LocmemSmsBackend.outbox]
    assert all(f"Your delivery PIN is {order.delivery_pin}." in body for body in sent)
    if emails:
        assert mail.outbox[0].to == ["alice@example.com"]
        assert mail.outbox[0].subject == f"Order {order.number} confirmed"
    if texts:
        assert LocmemSmsBackend.outbox[0].to == "+17025550100"


# --- The live part is rendered again only when something it shows changed ------------------


def _renders(client, url, **headers) -> tuple[object, bool]:
    """The response, and whether the page read order lines (i.e. rendered the live part)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as q:
        response = client.get(url, **headers)
    return response, any('"orders_orderline"' in x["sql"] for x in q.captured_queries)


def test_the_tracking_page_is_not_rendered_again_while_nothing_changed(alice, group):
    url = reverse("shop:track", args=[group])
    first, rendered = _renders(alice, url)
    assert rendered
    again, rendered = _renders(alice, url, HTTP_HX_REQUEST="true")
    assert not rendered
    assert again.status_code == 200
    for order in orders_of(group):
        assert order.number in again.text


def test_a_status_change_shows_on_the_next_poll(alice, group, advance):
    first, _ = orders_of(group)
    url = reverse("shop:track", args=[group])
    alice.get(url)
    advance(first, "accepted")
    response, rendered = _renders(alice, url, HTTP_HX_REQUEST="true")
    assert rendered
    assert 'class="badge s-accepted"' in response.text


def test_a_new_position_of_the_driver_moves_the_eta(alice, group, advance, driver):
    first, _ = orders_of(group)
    first = advance(first, "picked_up")
    url = reverse("shop:track", args=[group])
    driver.last_latitude, driver.last_longitude = 36.20, -115.30  # far out of town
    driver.last_located_at = NOW
    driver.save()
    far = alice.get(url, HTTP_HX_REQUEST="true").text
    driver.last_latitude, driver.last_longitude = 36.1270, -115.1710  # at the door
    driver.last_located_at = NOW + dt.timedelta(minutes=1)
    driver.save()
    near, rendered = _renders(alice, url, HTTP_HX_REQUEST="true")
    assert rendered

    def eta(text):
        return re.search(r"now expected around <strong>([^<]+)</strong>", text).group(1)

    assert eta(far) != eta(near.text)


def test_a_render_kept_for_one_shopper_is_never_shown_to_another(
    client, group, shopper, other_shopper
):
    url = reverse("shop:track", args=[group])
    client.force_login(shopper.user)
    assert client.get(url).status_code == 200  # the render is now kept
    client.force_login(other_shopper.user)
    assert client.get(url).status_code == 404
    assert client.get(url, HTTP_HX_REQUEST="true").status_code == 404


def test_each_tracking_response_carries_the_viewers_own_csrf_token(alice, group):
    url = reverse("shop:track", args=[group])
    alice.get(url)
    response = alice.get(url)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.text).group(1)
    assert "placeholder" not in token
    assert len(token) == 64


def test_the_eta_of_an_order_on_its_way_moves_on_without_new_fixes(alice, group, advance, driver):
    first, _ = orders_of(group)
    advance(first, "picked_up")
    driver.last_latitude, driver.last_longitude = 36.20, -115.30
    driver.last_located_at = NOW
    driver.save()
    url = reverse("shop:track", args=[group])
    before = alice.get(url, HTTP_HX_REQUEST="true").text
    _, rendered = _renders(alice, url, HTTP_HX_REQUEST="true")
    assert not rendered  # the same minute: kept
    with clock.frozen_at(NOW + dt.timedelta(minutes=2)):
        later, rendered = _renders(alice, url, HTTP_HX_REQUEST="true")
    assert rendered

    def eta(text):
        return re.search(r"now expected around <strong>([^<]+)</strong>", text).group(1)

    assert eta(later.text) != eta(before)
