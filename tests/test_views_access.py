"""Who lands where after login, and who is refused which page (404 rather than a leak)."""

import pytest
from django.urls import reverse

from drivers.services import offer_accept, route_offer, route_plan
from orders.permissions import Actor
from orders.services import order_accept
from tests import factories as f


@pytest.fixture
def order(place_order, stock):
    return place_order(stock)


def login(client, user):
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    ("who", "lands_on"),
    [
        ("shopper", "orders:mine"),
        ("manager", "store:home"),
        ("driver", "driver:home"),
        ("ops_user", "ops:home"),
    ],
)
def test_each_party_lands_on_its_own_home_after_login(client, request, who, lands_on):
    obj = request.getfixturevalue(who)
    user = getattr(obj, "user", obj)
    user.set_password("mallrun")
    user.save()
    response = client.post(
        reverse("login"), {"username": user.username, "password": "mallrun"}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse(lands_on)


def test_a_wrong_password_says_so_on_the_login_page(client, shopper):
    response = client.post(reverse("login"), {"username": "alice", "password": "nope"})
    assert response.status_code == 200
    assert b"Please enter a correct username and password" in response.content


def test_anonymous_visitors_are_sent_to_login(client, order):
    for url in (reverse("orders:mine"), reverse("orders:detail", args=[order.number])):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_the_shopper_sees_their_order_and_pin(client, shopper, order):
    response = login(client, shopper.user).get(
        reverse("orders:detail", args=[order.number]), follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("shop:track", args=[order.group])
    assert order.delivery_pin.encode() in response.content


@pytest.mark.parametrize("who", ["manager", "associate", "ops_user"])
def test_store_staff_and_ops_see_the_order_without_the_pin(client, request, who, order):
    response = login(client, request.getfixturevalue(who)).get(
        reverse("orders:detail", args=[order.number])
    )
    assert response.status_code == 200
    assert b"delivery PIN" not in response.content


@pytest.mark.parametrize("who", ["other_shopper", "other_staff", "driver"])
def test_it_refuses_an_order_to_anyone_else(client, request, who, order):
    obj = request.getfixturevalue(who)
    response = login(client, getattr(obj, "user", obj)).get(
        reverse("orders:detail", args=[order.number])
    )
    assert response.status_code == 404


def test_the_driver_holding_the_route_sees_its_order(client, order, driver, mall):
    order_accept(order=order, actor=Actor.system())
    route = route_plan(mall=mall, orders=[order], actor=Actor.system())
    offer_accept(
        offer=route_offer(route=route, driver=driver, actor=Actor.system()),
        actor=Actor.driver(driver.user),
    )
    response = login(client, driver.user).get(reverse("orders:detail", args=[order.number]))
    assert response.status_code == 200


def test_shoppers_list_only_their_own_orders(client, other_shopper, order):
    response = login(client, other_shopper.user).get(reverse("orders:mine"))
    assert order.number.encode() not in response.content


def test_store_home_shows_only_the_members_store(client, manager, order, other_stock, place_order):
    other_order = place_order(other_stock)
    response = login(client, manager).get(reverse("store:home"))
    assert order.number.encode() in response.content
    assert other_order.number.encode() not in response.content


def test_store_home_refuses_another_stores_slug(client, manager, other_store):
    response = login(client, manager).get(reverse("store:home"), {"store": other_store.slug})
    assert response.status_code == 404


def test_store_home_refuses_people_who_are_not_staff(client, shopper):
    assert login(client, shopper.user).get(reverse("store:home")).status_code == 404


def test_driver_home_refuses_people_who_are_not_drivers(client, shopper):
    assert login(client, shopper.user).get(reverse("driver:home")).status_code == 404


def test_driver_home_shows_open_offers_made_to_this_driver_only(
    client, order, driver, other_driver, mall
):
    order_accept(order=order, actor=Actor.system())
    route = route_plan(mall=mall, orders=[order], actor=Actor.system())
    route_offer(route=route, driver=other_driver, actor=Actor.system())
    response = login(client, driver.user).get(reverse("driver:home"))
    assert b"No offers right now" in response.content
    response = login(client, other_driver.user).get(reverse("driver:home"))
    offer = route.offers.get()
    assert reverse("driver:offer_answer", args=[offer.pk, "accept"]).encode() in response.content


def test_storefront_home_lists_malls(client, mall):
    response = client.get(reverse("shop:home"))
    assert response.status_code == 200
    assert mall.name.encode() in response.content


def test_shopper_order_list_query_count_does_not_grow(
    client, shopper, stock, place_order, django_assert_max_num_queries
):
    place_order(stock)
    login(client, shopper.user)
    with django_assert_max_num_queries(6):
        client.get(reverse("orders:mine"))
    for _ in range(8):
        place_order(f.StockFactory(store=stock.store))
    with django_assert_max_num_queries(6):
        client.get(reverse("orders:mine"))


def test_new_staff_set_a_password_through_the_mailed_link(client, manager, mailoutbox):
    manager.email = "new.staff@example.com"
    manager.set_unusable_password()
    manager.save()
    response = client.post(reverse("password_reset"), {"email": "new.staff@example.com"})
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    link = next(w for w in mailoutbox[0].body.split() if "/accounts/reset/" in w)
    response = client.get(link, follow=True)
    response = client.post(
        response.redirect_chain[-1][0],
        {"new_password1": "counter-tablet-77", "new_password2": "counter-tablet-77"},
    )
    assert response.status_code == 302
    manager.refresh_from_db()
    assert manager.check_password("counter-tablet-77")
