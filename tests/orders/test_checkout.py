"""Checkout: cart → quotes → payment → one order per store, never twice, never charged for
what can't be delivered."""

import datetime as dt

import pytest
from django.urls import reverse

from orders import checkout as checkout_module
from orders.cart import cart_add
from orders.checkout import checkout_cart, payment_release_if_nothing_left
from orders.models import Address, Cart, Order, OrderLine, Payment
from orders.payments import Card
from retailers import clock
from retailers.models import Product, Stock
from tests import factories as f

# 11:00 am in Las Vegas on a Wednesday: every test store is open and before the cut-off.
NOW = dt.datetime(2026, 11, 25, 19, 0, tzinfo=dt.UTC)
APPROVED = Card("4242424242424242", 8, 2029, "123")
DECLINED = Card("4000000000000002", 8, 2029, "123")


@pytest.fixture(autouse=True)
def frozen():
    with clock.frozen_at(NOW):
        yield NOW


@pytest.fixture
def cart(shopper, stock, other_stock, driver):
    """Alice's cart: 2 from our store, 1 from the other store of the mall, a driver online."""
    cart = Cart.objects.create(user=shopper.user)
    cart_add(cart=cart, stock=stock, quantity=2)
    cart_add(cart=cart, stock=other_stock, quantity=1)
    return cart


@pytest.fixture
def check_out(shopper, cart, address):
    def _check_out(**kwargs):
        kwargs.setdefault("card", APPROVED)
        kwargs.setdefault("token", "form-token-1")
        return checkout_cart(
            user=shopper.user,
            cart=cart,
            address=address,
            phone="+17025550100",
            notify_by="both",
            tip_percent=kwargs.pop("tip_percent", 10),
            **kwargs,
        )

    return _check_out


def reserved(*rows):
    return [Stock.objects.get(pk=row.pk).reserved for row in rows]


# --- The service ----------------------------------------------------------------------------


def test_checkout_places_one_order_per_store_in_one_group_and_empties_the_cart(
    check_out, cart, stock, other_stock, shopper
):
    result = check_out()

    assert result.placed
    orders = Order.objects.filter(shopper=shopper)
    assert {o.store_id for o in orders} == {stock.store_id, other_stock.store_id}
    assert len({o.group for o in orders}) == 1
    assert not cart.lines.exists()
    assert reserved(stock, other_stock) == [2, 1]
    payment = Payment.objects.get()
    assert payment.status == Payment.Status.AUTHORIZED
    assert payment.group == orders[0].group
    assert payment.amount_cents == sum(o.total_cents for o in orders)
    # The tip is 10% of the items, once; the delivery fee is charged once.
    assert sum(o.tip_cents for o in orders) == round(3 * 1999 * 0.10)
    assert sum(o.fee_cents for o in orders) == stock.store.mall.delivery_fee_cents
    assert all(o.promised_by > NOW for o in orders)


def test_a_declined_card_places_nothing_and_leaves_the_cart(check_out, cart, stock, other_stock):
    result = check_out(card=DECLINED)

    assert not result.placed
    assert result.declined == "Your card was declined."
    assert not Order.objects.exists()
    assert cart.lines.count() == 2
    assert reserved(stock, other_stock) == [0, 0]
    assert Payment.objects.get().status == Payment.Status.DECLINED


def test_the_same_form_twice_places_once(check_out):
    first = check_out()
    again = check_out()

    assert {o.pk for o in again.orders} == {o.pk for o in first.orders}
    assert Order.objects.count() == 2
    assert Payment.objects.count() == 1


def test_a_changed_price_is_shown_and_nothing_is_charged_until_confirmed(
    check_out, cart, stock, shopper
):
    Product.objects.filter(pk=stock.product_id).update(price_cents=2450)

    result = check_out()

    assert not result.placed
    assert [c.message for c in result.changes] == [
        f"{stock.product.title} is now $24.50 (was $19.99)."
    ]
    assert not Payment.objects.exists() and not Order.objects.exists()

    result = check_out(confirm_changes=True)

    assert result.placed
    line = OrderLine.objects.get(product=stock.product)
    assert (line.unit_price_cents, line.quantity) == (2450, 2)


def test_stock_that_fell_short_is_trimmed_once_confirmed(check_out, stock):
    Stock.objects.filter(pk=stock.pk).update(on_hand=1)

    assert check_out().changes
    result = check_out(confirm_changes=True)

    assert OrderLine.objects.get(product=stock.product).quantity == 1
    assert result.placed


def test_a_store_that_cant_deliver_is_explained_and_nothing_is_charged(check_out, cart, stock):
    stock.store.paused_until = NOW + dt.timedelta(hours=1)
    stock.store.save()

    result = check_out()

    assert not result.placed
    assert result.reasons == [
        f"{stock.store.name} isn't taking orders right now (back at 12:00 pm)."
    ]
    assert not Payment.objects.exists()
    assert cart.lines.count() == 2


def test_an_empty_cart_is_refused(check_out, cart):
    cart.lines.all().delete()

    assert check_out().reasons == ["Your cart is empty."]
    assert not Payment.objects.exists()


@pytest.fixture
def sold_out_after_authorising(monkeypatch, stock):
    """Someone else buys the last units between the authorisation and the placement."""
    authorize = checkout_module.payment_authorize

    def authorize_then_sell_out(**kwargs):
        payment = authorize(**kwargs)
        Stock.objects.filter(pk=stock.pk).update(on_hand=0)
        return payment

    monkeypatch.setattr(checkout_module, "payment_authorize", authorize_then_sell_out)


def test_stock_sold_out_after_authorising_voids_the_payment(
    check_out, cart, stock, sold_out_after_authorising
):
    result = check_out()

    assert not result.placed
    assert result.reasons == [f"{stock.product.title} is sold out at {stock.store.name}."]
    payment = Payment.objects.get()
    assert payment.status == Payment.Status.VOIDED
    assert not Order.objects.exists()
    assert cart.lines.count() == 2


def test_the_payment_is_released_only_when_every_order_is_called_off(check_out, advance, system):
    orders = check_out().orders
    payment = Payment.objects.get()

    advance(orders[0], "cancelled")
    payment_release_if_nothing_left(group=orders[0].group)
    payment.refresh_from_db()
    assert payment.status == Payment.Status.AUTHORIZED

    advance(orders[1], "rejected")
    payment_release_if_nothing_left(group=orders[0].group)
    payment.refresh_from_db()
    assert payment.status == Payment.Status.VOIDED


# --- The page ---------------------------------------------------------------------------------


@pytest.fixture
def alice(client, shopper):
    client.force_login(shopper.user)
    return client


@pytest.fixture
def form(alice, cart, address):
    """What the checkout page's form would send, with the token the page gave."""
    page = alice.get(reverse("shop:checkout"))
    assert page.status_code == 200
    return {
        "token": page.context["form"]["token"].value(),
        "address": str(address.pk),
        "phone": "+1 702 555 0100",
        "notify_by": "email",
        "tip": "15",
        "card_number": "4242 4242 4242 4242",
        "card_expiry": "08/29",
        "card_cvc": "123",
    }


def test_checking_out_needs_an_account(client, cart):
    response = client.get(reverse("shop:checkout"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_checkout_page_places_the_orders_and_shows_the_tracking_page(
    alice, form, cart, shopper
):
    response = alice.post(reverse("shop:checkout"), form)

    orders = list(Order.objects.filter(shopper=shopper))
    assert len(orders) == 2
    assert response.status_code == 302
    assert response["Location"] == reverse("shop:track", args=[orders[0].group])
    assert not cart.lines.exists()
    shopper.refresh_from_db()
    assert (shopper.phone, shopper.notify_by) == ("+1 702 555 0100", "email")
    page = alice.get(response["Location"])
    assert orders[0].delivery_pin in page.text


def test_a_declined_card_is_shown_next_to_the_card_number_with_a_new_token(
    alice, form, cart, shopper
):
    form["card_number"] = "4000 0000 0000 0002"

    response = alice.post(reverse("shop:checkout"), form)

    assert response.status_code == 200
    assert response.context["form"].errors["card_number"] == ["Your card was declined."]
    assert 'id="id_card_number-error"' in response.text
    assert "Your card was declined." in response.text
    assert not Order.objects.exists()
    assert cart.lines.count() == 2
    new_token = response.context["form"]["token"].value()
    assert new_token and new_token != form["token"]
    assert f'value="{new_token}"' in response.text
    # What was typed is kept, except the security code.
    assert 'value="4000 0000 0000 0002"' in response.text
    assert 'value="123"' not in response.text

    form.update(token=new_token, card_number="4242 4242 4242 4242")
    response = alice.post(reverse("shop:checkout"), form)

    assert response.status_code == 302
    assert Order.objects.filter(shopper=shopper).count() == 2


def test_a_double_submitted_form_places_once_and_both_land_on_the_same_group(alice, form):
    first = alice.post(reverse("shop:checkout"), form)
    second = alice.post(reverse("shop:checkout"), form)

    assert Order.objects.count() == 2
    assert Payment.objects.count() == 1
    assert first.status_code == second.status_code == 302
    assert second["Location"] == first["Location"]


def test_another_shopper_replaying_the_token_gets_nothing_of_it(alice, form, other_shopper, stock):
    alice.post(reverse("shop:checkout"), form)
    alice.logout()
    alice.force_login(other_shopper.user)
    cart_add(cart=Cart.objects.create(user=other_shopper.user), stock=stock, quantity=1)
    f.AddressFactory(shopper=other_shopper)
    form["address"] = str(other_shopper.addresses.get().pk)

    response = alice.post(reverse("shop:checkout"), form)

    # Neither Alice's orders nor her authorisation: the form is simply refused.
    assert response.status_code == 200
    assert not Order.objects.filter(shopper=other_shopper).exists()
    assert Payment.objects.count() == 1
    assert response.context["form"]["token"].value() != form["token"]


def test_a_price_change_is_shown_and_placed_only_once_confirmed(alice, form, stock, shopper):
    Product.objects.filter(pk=stock.product_id).update(price_cents=2450)

    response = alice.post(reverse("shop:checkout"), form)

    assert response.status_code == 200
    assert "Your cart changed since you filled it" in response.text
    assert f"{stock.product.title} is now $24.50 (was $19.99)." in response.text
    assert "Accept changes and place order" in response.text
    assert not Order.objects.exists() and not Payment.objects.exists()
    assert response.context["form"]["confirm_changes"].value()

    form["confirm_changes"] = "on"
    response = alice.post(reverse("shop:checkout"), form)

    assert response.status_code == 302
    assert OrderLine.objects.get(product=stock.product).unit_price_cents == 2450


def test_a_store_that_cant_deliver_is_explained_on_the_page(alice, form, stock, cart):
    stock.store.paused_until = NOW + dt.timedelta(hours=1)
    stock.store.save()

    response = alice.post(reverse("shop:checkout"), form)

    assert response.status_code == 200
    assert "We can't deliver this order" in response.text
    assert f"{stock.store.name} isn&#x27;t taking orders right now" in response.text
    assert not Payment.objects.exists()
    assert cart.lines.count() == 2


def test_a_sell_out_after_authorising_voids_and_the_next_try_is_a_new_checkout(
    alice, form, stock, shopper, sold_out_after_authorising, monkeypatch
):
    response = alice.post(reverse("shop:checkout"), form)

    assert response.status_code == 200
    assert f"{stock.product.title} is sold out" in response.text
    assert Payment.objects.get().status == Payment.Status.VOIDED
    assert not Order.objects.exists()

    # The shelf is restocked and the shopper tries again from the same page.
    monkeypatch.undo()
    Stock.objects.filter(pk=stock.pk).update(on_hand=10)
    form["token"] = response.context["form"]["token"].value()
    response = alice.post(reverse("shop:checkout"), form)

    assert response.status_code == 302
    assert Order.objects.filter(shopper=shopper).count() == 2


def test_a_new_address_is_found_by_its_zip_code(alice, form, shopper):
    form.update(
        address="new", line1="3500 S Las Vegas Blvd", city="Las Vegas", state="nv", zip_code="89109"
    )

    response = alice.post(reverse("shop:checkout"), form)

    assert response.status_code == 302
    address = Address.objects.get(line1="3500 S Las Vegas Blvd")
    assert (address.shopper, address.state, address.zip_code) == (shopper, "NV", "89109")
    assert (round(address.latitude, 2), round(address.longitude, 2)) == (36.13, -115.15)
    assert set(Order.objects.values_list("address", flat=True)) == {address.pk}


def test_an_unknown_zip_is_shown_next_to_the_zip_field_keeping_what_was_typed(alice, form):
    form.update(address="new", line1="1 Nowhere Rd", city="Nowhere", state="NV", zip_code="00000")

    response = alice.post(reverse("shop:checkout"), form)

    assert response.status_code == 200
    assert response.context["form"].errors["zip_code"] == [
        "We couldn't find ZIP code 00000. Check it and try again."
    ]
    assert 'id="id_zip_code-error"' in response.text
    assert 'value="1 Nowhere Rd"' in response.text
    assert 'value="00000"' in response.text
    assert not Address.objects.filter(line1="1 Nowhere Rd").exists()
    assert not Order.objects.exists() and not Payment.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("card_number", "4242 4242 4242 4241", "That card number isn't valid. Check the digits."),
        ("card_expiry", "10/26", "This card has expired."),
        ("card_expiry", "1029", "Use MM/YY, e.g. 08/29."),
        ("card_cvc", "12", "The security code is the 3 digits on the back of the card."),
        ("phone", "call me", "Enter a phone number, e.g. +1 702 555 0100."),
    ],
)
def test_bad_details_are_shown_next_to_their_field(alice, form, field, value, error):
    form[field] = value

    response = alice.post(reverse("shop:checkout"), form)

    assert response.status_code == 200
    assert response.context["form"].errors[field] == [error]
    assert not Payment.objects.exists()


def test_an_address_of_another_shopper_cannot_be_chosen(alice, form, other_shopper):
    theirs = f.AddressFactory(shopper=other_shopper)
    form["address"] = str(theirs.pk)

    response = alice.post(reverse("shop:checkout"), form)

    assert response.status_code == 200
    assert "address" in response.context["form"].errors
    assert not Order.objects.exists()
