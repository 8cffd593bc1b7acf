"""Card payments through the local test provider: approvals, declines, typos, and one charge
per checkout however often it is submitted."""

import datetime as dt

import pytest

from orders.models import Payment
from orders.payments import (
    Card,
    LocalTestPaymentProvider,
    card_problem,
    luhn_ok,
    payment_authorize,
    payment_void,
)

TODAY = dt.date(2026, 11, 25)
APPROVED = "4242424242424242"
DECLINED = "4000000000000002"
NO_FUNDS = "4000000000009995"


def card(number=APPROVED, month=8, year=2029, cvc="123"):
    return Card(number, month, year, cvc)


@pytest.fixture
def authorizations(monkeypatch):
    """Every call that reaches the provider."""
    calls = []
    original = LocalTestPaymentProvider.authorize

    def counting(self, **kwargs):
        calls.append(kwargs)
        return original(self, **kwargs)

    monkeypatch.setattr(LocalTestPaymentProvider, "authorize", counting)
    return calls


# --- Before asking the provider -----------------------------------------------------------


@pytest.mark.parametrize("number", [APPROVED, DECLINED, NO_FUNDS, "5555555555554444"])
def test_the_test_card_numbers_pass_the_luhn_check(number):
    assert luhn_ok(number)
    assert card_problem(card(number), TODAY) is None


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        (card("4242424242424241"), "That card number isn't valid. Check the digits."),
        (card("42424242"), "That card number isn't valid. Check the digits."),
        (card("4242-4242-4242-4242"), "That card number isn't valid. Check the digits."),
        (card(month=13), "The expiry month must be between 01 and 12."),
        (card(month=10, year=2026), "This card has expired."),
        (card(month=12, year=2025), "This card has expired."),
        (card(cvc="12"), "The security code is the 3 digits on the back of the card."),
        (card(cvc="12a"), "The security code is the 3 digits on the back of the card."),
    ],
)
def test_card_problems_are_found_before_any_provider_is_asked(typed, problem):
    assert card_problem(typed, TODAY) == problem


def test_a_card_expiring_this_month_is_still_good():
    assert card_problem(card(month=11, year=2026), TODAY) is None


# --- Authorising ----------------------------------------------------------------------------


def test_the_approved_test_card_is_authorised(db, shopper):
    payment = payment_authorize(
        amount_cents=4599, card=card(), reference="checkout-1", user=shopper.user
    )

    payment.refresh_from_db()
    assert payment.status == Payment.Status.AUTHORIZED
    assert payment.provider == "local-test"
    assert payment.provider_id.startswith("test_auth_")
    assert (payment.amount_cents, payment.card_last4, payment.user) == (4599, "4242", shopper.user)


@pytest.mark.parametrize(
    ("number", "message"),
    [
        (DECLINED, "Your card was declined."),
        (NO_FUNDS, "Your card has insufficient funds."),
        ("4111111111111111", "This demo accepts test cards only, e.g. 4242 4242 4242 4242."),
    ],
)
def test_declining_cards_are_declined_with_a_message(db, number, message):
    payment = payment_authorize(amount_cents=4599, card=card(number), reference="checkout-1")

    assert payment.status == Payment.Status.DECLINED
    assert payment.message == message
    assert payment.provider_id == ""


def test_the_same_reference_is_authorised_once(db, authorizations):
    first = payment_authorize(amount_cents=4599, card=card(), reference="checkout-1")
    again = payment_authorize(amount_cents=4599, card=card(), reference="checkout-1")

    assert again.pk == first.pk
    assert again.provider_id == first.provider_id
    assert len(authorizations) == 1
    assert Payment.objects.count() == 1


def test_a_declined_reference_stays_declined(db, authorizations):
    payment_authorize(amount_cents=4599, card=card(DECLINED), reference="checkout-1")
    again = payment_authorize(amount_cents=4599, card=card(), reference="checkout-1")

    assert again.status == Payment.Status.DECLINED
    assert len(authorizations) == 1


def test_another_reference_is_another_authorisation(db, authorizations):
    first = payment_authorize(amount_cents=4599, card=card(), reference="checkout-1")
    second = payment_authorize(amount_cents=4599, card=card(), reference="checkout-2")

    assert first.pk != second.pk
    assert len(authorizations) == 2


def test_voiding_an_authorisation_keeps_the_reason(db):
    payment = payment_authorize(amount_cents=4599, card=card(), reference="checkout-1")

    payment_void(payment=payment, reason="Sold out")

    payment.refresh_from_db()
    assert (payment.status, payment.message) == (Payment.Status.VOIDED, "Sold out")


def test_a_declined_payment_is_not_voided(db):
    payment = payment_authorize(amount_cents=4599, card=card(DECLINED), reference="checkout-1")

    payment_void(payment=payment, reason="Sold out")

    payment.refresh_from_db()
    assert payment.status == Payment.Status.DECLINED
