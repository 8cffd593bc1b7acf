"""The retailer portal's lists: the board (every column, whole page and HTMX part), one
order's lines and history, a product's stock history, staff, reports, integrations."""

import datetime as dt

import pytest
from django.urls import reverse

from orders.api.auth import api_key_create
from orders.models import ApiScope, Order
from orders.permissions import Actor
from orders.services import CartItem, checkout_place, order_fail_delivery, order_pick_up
from orders.webhooks import webhook_endpoint_create
from retailers.models import StockAdjustment, StoreMembership
from retailers.services import stock_adjust
from tests import factories as f
from tests.queries.counting import NOON, assert_flat, deliveries


@pytest.fixture
def as_manager(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def board_orders(store, place_order, ready_orders, held, system, advance):
    """`board_orders(n, driver)`: n orders in each column of the board (new, accepted, ready,
    handed over today) and n failed deliveries coming back, on a route `driver` holds."""

    def _orders(n, driver):
        stocks = [f.StockFactory(store=store, on_hand=50) for _ in range(n)]
        for stock in stocks:
            place_order(stock)
            advance(place_order(stock), "accepted")
        ready = ready_orders(stocks * 3)
        held(driver, ready[n:])
        for order in ready[n:]:
            order_pick_up(order=order, actor=system)
        for order in ready[2 * n :]:
            order_fail_delivery(order=order, actor=Actor.driver(driver.user), reason="Nobody home")

    return _orders


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_the_board_does_not_query_per_order_in_any_column(
    as_manager, store, board_orders, driver, other_driver, htmx
):
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    board_orders(1, driver)

    response = assert_flat(
        lambda: as_manager.get(reverse("store:board", args=[store.slug]), **headers),
        lambda: board_orders(4, other_driver),
    )

    columns = {key: len(orders) for key, _, orders in response.context["columns"]}
    assert columns == {"new": 5, "accepted": 5, "ready": 5, "handed": 5}
    assert len(response.context["returns"]) == 5


def _order_with_lines(shopper, address, stocks) -> Order:
    (order,) = checkout_place(
        actor=Actor.shopper(shopper.user),
        shopper=shopper,
        address=address,
        recipient_name="Alice Shopper",
        recipient_email="alice@example.com",
        recipient_phone="+17025550100",
        items=[CartItem(s.store_id, s.product_id, 1) for s in stocks],
    )
    return order


@pytest.mark.parametrize("page", ["store:order", "store:pick_list"])
def test_an_orders_page_does_not_query_per_line_or_event(
    as_manager, store, shopper, address, advance, page
):
    stocks = [f.StockFactory(store=store, on_hand=5) for _ in range(15)]
    small = advance(_order_with_lines(shopper, address, stocks[:3]), "accepted")
    large = advance(_order_with_lines(shopper, address, stocks[3:]), "ready")

    def get(order):
        return lambda: as_manager.get(reverse(page, args=[store.slug, order.number]))

    response = assert_flat(get(small), lambda: None, get_more=get(large))

    assert len(response.context["lines"]) == 12


def test_the_stock_history_does_not_query_per_adjustment(as_manager, store, stock, manager):
    people = [f.MembershipFactory(store=store).user for _ in range(15)]

    def adjust(who):
        for user in who:
            stock_adjust(
                store=store,
                product=stock.product,
                actor=Actor.store_staff(user),
                delta=1,
                reason=StockAdjustment.Reason.RECEIVED,
            )

    adjust(people[:3])
    response = assert_flat(
        lambda: as_manager.get(reverse("store:product", args=[store.slug, stock.product_id])),
        lambda: adjust(people[3:]),
    )

    assert len(response.context["history"]) == 15


def test_the_staff_list_does_not_query_per_member(as_manager, store):
    def hire(n):
        for i in range(n):
            role = StoreMembership.Role.MANAGER if i % 3 else StoreMembership.Role.ASSOCIATE
            f.MembershipFactory(store=store, role=role)

    hire(2)
    response = assert_flat(
        lambda: as_manager.get(reverse("store:staff", args=[store.slug])), lambda: hire(12)
    )

    assert len(response.context["members"]) == 15


def test_reports_do_not_query_per_order(as_manager, store, place_order, advance):
    stocks = [f.StockFactory(store=store, on_hand=50) for _ in range(3)]

    def orders(n):
        statuses = ["placed", "accepted", "ready", "rejected", "cancelled"]
        for i in range(n):
            order = advance(place_order(stocks[i % 3]), statuses[i % len(statuses)])
            # Spread over the fortnight the report shows.
            Order.objects.filter(pk=order.pk).update(placed_at=NOON - dt.timedelta(days=i % 14))

    orders(3)
    response = assert_flat(
        lambda: as_manager.get(reverse("store:reports", args=[store.slug])), lambda: orders(12)
    )

    assert response.context["totals"]["orders"] == 15


def test_integrations_do_not_query_per_key_or_endpoint(as_manager, store):
    def add(n):
        for i in range(n):
            api_key_create(name=f"Sync {i}", scopes=[ApiScope.ORDERS_READ], retailer=store.retailer)
            webhook_endpoint_create(url=f"https://shop.example/hooks/{i}", retailer=store.retailer)

    add(3)
    response = assert_flat(
        lambda: as_manager.get(reverse("store:integrations", args=[store.slug])), lambda: add(12)
    )

    assert len(response.context["keys"]) == 15
    assert len(response.context["endpoints"]) == 15


def test_an_endpoints_deliveries_do_not_query_per_delivery(as_manager, store, stock, place_order):
    type(stock).objects.filter(pk=stock.pk).update(on_hand=50)
    orders = [place_order(stock) for _ in range(15)]
    endpoint = webhook_endpoint_create(url="https://shop.example/hooks", retailer=store.retailer)
    deliveries(endpoint, orders[:3])

    response = assert_flat(
        lambda: as_manager.get(reverse("store:endpoint", args=[store.slug, endpoint.pk])),
        lambda: deliveries(endpoint, orders[3:]),
    )

    assert len(response.context["deliveries"]) == 15


@pytest.mark.parametrize(
    "params",
    [{"q": "Socks"}, {"category": "Hosiery", "stock": "low"}, {"stock": "out"}],
    ids=["search", "category-low", "out"],
)
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_the_catalog_searched_and_filtered_does_not_query_per_row(as_manager, store, params, htmx):
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}

    def stock(n):
        for i in range(n):
            f.StockFactory(
                store=store,
                on_hand=3 if params.get("stock") == "low" else 0,
                product__title=f"Socks {i}",
                product__category="Hosiery",
            )

    stock(3)
    response = assert_flat(
        lambda: as_manager.get(reverse("store:catalog", args=[store.slug]), params, **headers),
        lambda: stock(12),
    )

    assert response.context["page"].paginator.count == 15


def test_store_staffs_home_does_not_query_per_store_they_work_at(client, store, manager, mall):
    client.force_login(manager)

    def join(n):
        for _ in range(n):
            f.MembershipFactory(store=f.StoreFactory(mall=f.MallFactory()), user=manager)

    join(2)
    response = assert_flat(lambda: client.get(reverse("store:home")), lambda: join(12))

    assert len(response.context["stores"]) == 15
