"""The retailer portal's pages: who may see them, what each action does, and query counts."""

import datetime as dt
import html
import io

import pytest
from django.urls import reverse
from PIL import Image

from orders.models import Order
from retailers import clock
from retailers.models import Product, Stock, StoreMembership
from tests import factories as f

pytestmark = pytest.mark.django_db


def login(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def order(place_order, stock):
    return place_order(stock)


# (url name, needs order/line/pk, method, manager only)
PAGES = [
    ("store:board", "", "get", False),
    ("store:order", "order", "get", False),
    ("store:pick_list", "order", "get", False),
    ("store:order_accept", "order", "post", False),
    ("store:order_reject", "order", "post", False),
    ("store:order_ready", "order", "post", False),
    ("store:order_handover", "order", "post", False),
    ("store:order_return", "order", "post", False),
    ("store:line_pick", "line", "post", False),
    ("store:line_unavailable", "line", "post", False),
    ("store:catalog", "", "get", True),
    ("store:product_new", "", "get", True),
    ("store:catalog_export", "", "get", True),
    ("store:catalog_import", "", "get", True),
    ("store:product", "product", "get", True),
    ("store:stock_adjust", "product", "post", True),
    ("store:settings", "", "get", True),
    ("store:pause", "", "post", True),
    ("store:resume", "", "post", True),
    ("store:closure_add", "", "post", True),
    ("store:staff", "", "get", True),
    ("store:staff_add", "", "post", True),
    ("store:staff_change", "member", "post", True),
    ("store:staff_remove", "member", "post", True),
    ("store:reports", "", "get", True),
]


def url_for(name, needs, store, order, manager):
    args = [store.slug]
    if needs == "order":
        args.append(order.number)
    elif needs == "line":
        args += [order.number, order.lines.get().pk]
    elif needs == "product":
        args.append(order.lines.get().product_id)
    elif needs == "member":
        args.append(StoreMembership.objects.get(user=manager).pk)
    return reverse(name, args=args)


@pytest.mark.parametrize(("name", "needs", "method", "manager_only"), PAGES)
def test_another_stores_staff_get_404(
    client, other_staff, order, manager, name, needs, method, manager_only
):
    url = url_for(name, needs, order.store, order, manager)
    response = getattr(login(client, other_staff), method)(url)
    assert response.status_code == 404
    order.refresh_from_db()
    assert order.status == Order.Status.PLACED


@pytest.mark.parametrize(("name", "needs", "method", "manager_only"), PAGES)
def test_associates_get_403_on_manager_pages(
    client, associate, order, manager, name, needs, method, manager_only
):
    url = url_for(name, needs, order.store, order, manager)
    response = getattr(login(client, associate), method)(url)
    if manager_only:
        assert response.status_code == 403
    else:
        assert response.status_code != 403


@pytest.mark.parametrize(("name", "needs", "method", "manager_only"), PAGES)
def test_anonymous_people_are_sent_to_log_in(
    client, order, manager, name, needs, method, manager_only
):
    response = getattr(client, method)(url_for(name, needs, order.store, order, manager))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_an_order_number_of_another_store_is_404_under_our_slug(
    client, manager, other_stock, place_order
):
    theirs = place_order(other_stock)
    url = reverse("store:order", args=[manager.store_memberships.get().store.slug, theirs.number])
    assert login(client, manager).get(url).status_code == 404


def test_members_of_two_stores_switch(client, manager, other_store, order):
    StoreMembership.objects.create(user=manager, store=other_store, role="associate")
    c = login(client, manager)
    response = c.get(reverse("store:home"), {"store": other_store.slug})
    assert response.status_code == 200
    assert response.context["store"] == other_store
    assert other_store.name in response.text and "Switch" in response.text
    # as an associate there, the manager pages are closed
    assert c.get(reverse("store:catalog", args=[other_store.slug])).status_code == 403


def test_the_board_shows_columns_and_polls_with_a_partial(
    client, associate, order, advance, place_order, stock
):
    ready = advance(place_order(stock), "ready")
    c = login(client, associate)
    url = reverse("store:board", args=[stock.store.slug])
    page = c.get(url)
    assert page.status_code == 200
    assert 'hx-trigger="every' in page.text
    assert "<html" in page.text and "store.js" in page.text
    partial = c.get(url, headers={"HX-Request": "true"})
    assert "<html" not in partial.text
    assert f'data-new-order="{order.number}"' in partial.text
    assert ready.number in partial.text
    assert "HX-Request" in partial["Vary"]


def test_a_late_order_is_highlighted(client, associate, order):
    later = clock.now() + dt.timedelta(minutes=order.store.acceptance_minutes + 1)
    with clock.frozen_at(later):
        response = login(client, associate).get(reverse("store:board", args=[order.store.slug]))
    assert "order-card late" in response.text
    assert "Placed 11 min ago" in response.text


def test_the_boards_queries_dont_grow(
    client, associate, stock, place_order, django_assert_max_num_queries
):
    c = login(client, associate)
    url = reverse("store:board", args=[stock.store.slug])
    place_order(stock)
    with django_assert_max_num_queries(12) as few:
        c.get(url)
    for _ in range(5):
        place_order(stock)
    with django_assert_max_num_queries(len(few.captured_queries)):
        c.get(url)


def test_accept_with_a_prep_estimate(client, associate, order):
    url = reverse("store:order_accept", args=[order.store.slug, order.number])
    response = login(client, associate).post(url, {"prep_minutes": 25})
    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.status, order.prep_minutes) == ("accepted", 25)


def test_a_bad_prep_estimate_is_told_next_to_the_field(client, associate, order):
    url = reverse("store:order_accept", args=[order.store.slug, order.number])
    response = login(client, associate).post(url, {"prep_minutes": 999})
    assert response.status_code == 400
    assert response.context["accept_form"].errors["prep_minutes"]
    assert 'value="999"' in response.text
    order.refresh_from_db()
    assert order.status == "placed"


def test_accepting_twice_says_so(client, associate, order, advance):
    advance(order, "accepted")
    url = reverse("store:order_accept", args=[order.store.slug, order.number])
    response = login(client, associate).post(url, {"prep_minutes": 10})
    assert response.status_code == 409
    assert "can't be moved" in html.unescape(response.text)


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"reason": "out_of_stock"}, "Out of stock"),
        ({"reason": "other", "note": "Broken"}, "Other: Broken"),
    ],
)
def test_reject_with_a_reason_releases_stock(client, associate, order, stock, data, reason):
    url = reverse("store:order_reject", args=[order.store.slug, order.number])
    assert login(client, associate).post(url, data).status_code == 302
    order.refresh_from_db()
    assert (order.status, order.status_reason) == ("rejected", reason)
    assert Stock.objects.get(pk=stock.pk).reserved == 0


def test_other_without_a_note_is_refused(client, associate, order):
    url = reverse("store:order_reject", args=[order.store.slug, order.number])
    response = login(client, associate).post(url, {"reason": "other"})
    assert response.status_code == 400
    assert response.context["reject_form"].errors["note"]
    order.refresh_from_db()
    assert order.status == "placed"


def test_pick_tick_by_htmx_returns_the_line(client, associate, order, advance):
    advance(order, "accepted")
    line = order.lines.get()
    url = reverse("store:line_pick", args=[order.store.slug, order.number, line.pk])
    response = login(client, associate).post(url, {"picked": "1"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "<html" not in response.text and "✓ Picked" in response.text
    line.refresh_from_db()
    assert line.picked_at is not None


def test_mark_unavailable_from_the_page(client, associate, order):
    line = order.lines.get()
    url = reverse("store:line_unavailable", args=[order.store.slug, order.number, line.pk])
    assert login(client, associate).post(url, {"available": 0}).status_code == 302
    order.refresh_from_db()
    assert order.status == "rejected"


def test_mark_ready_with_bags(client, associate, order, advance):
    advance(order, "accepted")
    url = reverse("store:order_ready", args=[order.store.slug, order.number])
    assert login(client, associate).post(url, {"bags": 3}).status_code == 302
    order.refresh_from_db()
    assert (order.status, order.bags) == ("ready", 3)


@pytest.fixture
def ready_with_driver(order, advance, driver, system):
    from drivers.services import offer_accept, route_offer, route_plan
    from orders.permissions import Actor

    advance(order, "ready")
    route = route_plan(mall=order.store.mall, orders=[order], actor=system)
    offer_accept(
        offer=route_offer(route=route, driver=driver, actor=system), actor=Actor.driver(driver.user)
    )
    route.refresh_from_db()
    return order, route


def test_a_wrong_driver_code_changes_nothing(client, associate, ready_with_driver):
    order, route = ready_with_driver
    wrong = "000000" if route.handover_code != "000000" else "111111"
    url = reverse("store:order_handover", args=[order.store.slug, order.number])
    response = login(client, associate).post(url, {"code": wrong})
    assert response.status_code == 400
    assert "doesn't match" in html.unescape(response.text)
    order.refresh_from_db()
    assert order.status == "ready"


def test_the_right_driver_code_hands_over(client, associate, ready_with_driver):
    order, route = ready_with_driver
    url = reverse("store:order_handover", args=[order.store.slug, order.number])
    assert login(client, associate).post(url, {"code": route.handover_code}).status_code == 302
    order.refresh_from_db()
    assert order.status == "picked_up"


def test_receiving_a_return_restocks(client, associate, order, advance, stock):
    advance(order, "delivery_failed")
    c = login(client, associate)
    assert order.number in c.get(reverse("store:board", args=[stock.store.slug])).text
    url = reverse("store:order_return", args=[order.store.slug, order.number])
    assert c.post(url).status_code == 302
    order.refresh_from_db()
    assert order.status == "returned"
    assert Stock.objects.get(pk=stock.pk).on_hand == 10


def test_return_of_an_order_not_failed_is_refused(client, associate, order):
    url = reverse("store:order_return", args=[order.store.slug, order.number])
    assert login(client, associate).post(url).status_code == 409


def test_the_pick_list_prints_sku_title_quantity_and_aisle(client, associate, order):
    response = login(client, associate).get(
        reverse("store:pick_list", args=[order.store.slug, order.number])
    )
    line = order.lines.get()
    assert line.sku in response.text and line.title in response.text
    assert line.product.category in response.text


# --- Catalog ------------------------------------------------------------------------------


def png_bytes(size=(10, 10)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, "red").save(buf, "PNG")
    return buf.getvalue()


def test_the_catalog_lists_searches_and_filters(client, manager, stock):
    f.StockFactory(
        store=stock.store, product__title="Blue Mascara", product__category="Eyes", on_hand=0
    )
    c = login(client, manager)
    url = reverse("store:catalog", args=[stock.store.slug])
    assert "Blue Mascara" in c.get(url, {"q": "mascara"}).text
    assert stock.product.title not in c.get(url, {"q": "mascara"}).text
    assert "Blue Mascara" in c.get(url, {"stock": "out"}).text
    assert stock.product.title not in c.get(url, {"category": "Eyes"}).text
    partial = c.get(url, {"q": "mascara"}, headers={"HX-Request": "true"})
    assert "<html" not in partial.text


def test_the_catalogs_queries_dont_grow(client, manager, stock, django_assert_max_num_queries):
    c = login(client, manager)
    url = reverse("store:catalog", args=[stock.store.slug])
    with django_assert_max_num_queries(12) as few:
        c.get(url)
    for _ in range(8):
        f.StockFactory(store=stock.store)
    with django_assert_max_num_queries(len(few.captured_queries)):
        c.get(url)


def test_a_manager_creates_a_product_with_an_image(client, manager, store, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = {
        "sku": "NEW-1",
        "title": "Glow",
        "price": "9.50",
        "category": "Skin",
        "bags": 1,
        "is_active": "on",
    }
    image = SimpleUploadedFile("glow.png", png_bytes(), content_type="image/png")
    response = login(client, manager).post(
        reverse("store:product_new", args=[store.slug]), {**data, "image": image}
    )
    assert response.status_code == 302
    product = Product.objects.get(sku="NEW-1")
    assert product.price_cents == 950 and product.image
    assert Stock.objects.filter(store=store, product=product).exists()


def test_a_fake_image_is_refused_next_to_the_field(client, manager, store):
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = {"sku": "NEW-2", "title": "Glow", "price": "9.50", "category": "Skin", "bags": 1}
    fake = SimpleUploadedFile("x.png", b"<?php echo 1; ?>", content_type="image/png")
    response = login(client, manager).post(
        reverse("store:product_new", args=[store.slug]), {**data, "image": fake}
    )
    assert response.status_code == 400
    assert response.context["form"].errors["image"]
    assert 'value="Glow"' in response.text
    assert not Product.objects.filter(sku="NEW-2").exists()


def test_a_duplicate_sku_is_told_on_the_sku_field(client, manager, stock):
    data = {"sku": stock.product.sku, "title": "Dup", "price": "1", "category": "X", "bags": 1}
    response = login(client, manager).post(
        reverse("store:product_new", args=[stock.store.slug]), data
    )
    assert response.status_code == 400
    assert response.context["form"].errors["sku"]


def test_stock_adjustment_form_and_history(client, manager, stock):
    c = login(client, manager)
    url = reverse("store:stock_adjust", args=[stock.store.slug, stock.product_id])
    assert c.post(url, {"delta": -3, "reason": "damaged", "note": "Dropped"}).status_code == 302
    page = c.get(reverse("store:product", args=[stock.store.slug, stock.product_id]))
    assert "Dropped" in page.text and "-3" in page.text
    bad = c.post(url, {"delta": -50, "reason": "damaged"})
    assert bad.status_code == 400 and bad.context["adjust_form"].errors["delta"]
    assert Stock.objects.get(pk=stock.pk).on_hand == 7


def test_csv_import_preview_then_apply_skipping_bad_rows(client, manager, store):
    from django.core.files.uploadedfile import SimpleUploadedFile

    c = login(client, manager)
    url = reverse("store:catalog_import", args=[store.slug])
    data = b"sku,title,price,category,quantity\nC1,Comb,3.00,Hair,5\nC2,Brush,nope,Hair,2\n"
    preview = c.post(url, {"file": SimpleUploadedFile("c.csv", data, content_type="text/csv")})
    assert preview.status_code == 200
    assert "Price “nope”" in preview.text
    token = preview.context["token"]
    refused = c.post(url, {"token": token})
    assert refused.status_code == 400 and "nothing was imported" in refused.text
    assert not Product.objects.filter(sku="C1").exists()
    assert c.post(url, {"token": token, "skip_bad_rows": "1"}).status_code == 302
    assert (
        Product.objects.filter(sku="C1").exists() and not Product.objects.filter(sku="C2").exists()
    )


def test_a_csv_with_wrong_headers_is_told_on_the_file_field(client, manager, store):
    from django.core.files.uploadedfile import SimpleUploadedFile

    url = reverse("store:catalog_import", args=[store.slug])
    response = login(client, manager).post(
        url, {"file": SimpleUploadedFile("c.csv", b"a,b\n1,2\n")}
    )
    assert response.status_code == 400
    assert "missing" in response.context["form"].errors["file"][0]


def test_csv_export(client, manager, stock):
    response = login(client, manager).get(reverse("store:catalog_export", args=[stock.store.slug]))
    body = b"".join(response.streaming_content).decode()
    assert body.splitlines()[0] == "sku,title,price,category,quantity"
    assert stock.product.sku in body


# --- Settings, staff, reports -------------------------------------------------------------


def settings_post(**overrides):
    data = {"prep_minutes": 20, "acceptance_minutes": 8, "pickup_instructions": "Back door"}
    for d in range(7):
        data[f"d{d}-opens_at"] = "10:00"
        data[f"d{d}-closes_at"] = "21:00"
    data.update(overrides)
    return data


def test_settings_save_and_errors_stay_next_to_the_field(client, manager, store):
    c = login(client, manager)
    url = reverse("store:settings", args=[store.slug])
    assert c.get(url).status_code == 200
    bad = c.post(url, settings_post(**{"d2-closes_at": "09:00", "prep_minutes": 20}))
    assert bad.status_code == 400 and "Closing must be after opening." in bad.text
    assert 'value="Back door"' in bad.text or "Back door" in bad.text
    store.refresh_from_db()
    assert store.prep_minutes == 15
    assert c.post(url, settings_post(**{"d6-closed": "on"})).status_code == 302
    store.refresh_from_db()
    assert (store.prep_minutes, store.pickup_instructions, store.hours.count()) == (
        20,
        "Back door",
        6,
    )


def test_pause_now_and_resume_from_the_page(client, manager, store):
    c = login(client, manager)
    assert c.post(reverse("store:pause", args=[store.slug]), {"duration": "30"}).status_code == 302
    store.refresh_from_db()
    assert store.is_paused()
    assert c.post(reverse("store:resume", args=[store.slug])).status_code == 302
    store.refresh_from_db()
    assert not store.is_paused()


def test_pause_until_a_local_time(client, manager, store):
    local = store.mall.local_now() + dt.timedelta(hours=2)
    c = login(client, manager)
    c.post(reverse("store:pause", args=[store.slug]), {"until": local.strftime("%Y-%m-%dT%H:%M")})
    store.refresh_from_db()
    assert abs((store.paused_until - local.replace(second=0, microsecond=0)).total_seconds()) < 1


def test_closure_from_the_page(client, manager, store):
    today = store.mall.local_now().date()
    c = login(client, manager)
    url = reverse("store:closure_add", args=[store.slug])
    assert (
        c.post(url, {"starts_on": today, "ends_on": today, "reason": "Stocktake"}).status_code
        == 302
    )
    assert "Stocktake" in c.get(reverse("store:settings", args=[store.slug])).text
    bad = c.post(url, {"starts_on": today, "ends_on": today - dt.timedelta(days=1)})
    assert bad.status_code == 400


def test_staff_pages(client, manager, associate, store):
    c = login(client, manager)
    assert associate.email in c.get(reverse("store:staff", args=[store.slug])).text
    r = c.post(
        reverse("store:staff_add", args=[store.slug]),
        {"email": "new@example.com", "role": "associate"},
    )
    assert r.status_code == 302
    me = StoreMembership.objects.get(user=manager)
    r = c.post(reverse("store:staff_change", args=[store.slug, me.pk]), {"role": "associate"})
    assert r.status_code == 400 and "at least one manager" in r.text
    bad = c.post(
        reverse("store:staff_add", args=[store.slug]), {"email": "not-an-email", "role": "x"}
    )
    assert bad.status_code == 400 and bad.context["add_form"].errors["email"]


def test_reports_with_chart_and_csv(client, manager, order, advance, place_order, stock):
    advance(order, "delivered")
    advance(place_order(stock), "rejected")
    c = login(client, manager)
    url = reverse("store:reports", args=[stock.store.slug])
    page = c.get(url)
    assert page.status_code == 200 and "<svg" in page.text
    today = page.context["days"][-1]
    assert today["orders"] == 2 and today["rejected"] == 1 and today["on_time_pct"] == 100
    assert today["rejections"] == {"Out of stock": 1}
    day = stock.store.mall.local_now().date()
    csv_resp = c.get(url, {"start": day, "end": day, "format": "csv"})
    lines = csv_resp.content.decode().splitlines()
    assert lines[0].startswith("day,orders,sales") and lines[1].startswith(f"{day},2,")


def test_reports_refuse_a_backwards_range(client, manager, store):
    url = reverse("store:reports", args=[store.slug])
    response = login(client, manager).get(url, {"start": "2026-05-10", "end": "2026-05-01"})
    assert response.status_code == 400 and response.context["form"].errors["end"]


def test_a_too_large_image_is_refused(client, manager, store, monkeypatch):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from retailers import images

    monkeypatch.setattr(images, "MAX_IMAGE_BYTES", 100)
    data = {"sku": "BIG", "title": "Big", "price": "1", "category": "X", "bags": 1}
    image = SimpleUploadedFile("big.png", png_bytes((200, 200)), content_type="image/png")
    url = reverse("store:product_new", args=[store.slug])
    response = login(client, manager).post(url, {**data, "image": image})
    assert response.status_code == 400
    assert "larger than" in response.context["form"].errors["image"][0]


def test_a_manager_edits_a_product(client, manager, stock):
    url = reverse("store:product", args=[stock.store.slug, stock.product_id])
    data = {
        "sku": stock.product.sku,
        "title": "New name",
        "price": "2.50",
        "category": "Y",
        "bags": 2,
    }
    assert login(client, manager).post(url, data).status_code == 302
    stock.product.refresh_from_db()
    assert (stock.product.title, stock.product.price_cents, stock.product.is_active) == (
        "New name",
        250,
        False,
    )


def test_another_retailers_product_is_404_under_our_slug(client, manager, store, other_stock):
    url = reverse("store:product", args=[store.slug, other_stock.product_id])
    assert login(client, manager).get(url).status_code == 404


def test_associates_see_no_manager_links(client, associate, store):
    response = login(client, associate).get(reverse("store:board", args=[store.slug]))
    assert reverse("store:catalog", args=[store.slug]) not in response.text
    assert reverse("store:board", args=[store.slug]) in response.text


def test_polling_stops_when_the_person_no_longer_works_there(client, associate, store):
    c = login(client, associate)
    StoreMembership.objects.filter(user=associate).delete()
    url = reverse("store:board", args=[store.slug])
    assert c.get(url, headers={"HX-Request": "true"}).status_code == 286
    assert c.get(url).status_code == 404


def test_an_order_flagged_to_ops_says_so_on_the_board(client, associate, order):
    from retailers.tasks import flag_slow_acceptance

    with clock.frozen_at(clock.now() + dt.timedelta(minutes=30)):
        flag_slow_acceptance()
        response = login(client, associate).get(reverse("store:board", args=[order.store.slug]))
    assert "Ops alerted" in response.text
