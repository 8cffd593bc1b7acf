"""Card payments behind a provider interface.

No card processor can be reached from here, so the default is `LocalTestPaymentProvider`,
which behaves like a processor's test mode: it accepts the well-known test numbers and
nothing real. A production provider implements `authorize` and `void` with the same
promises: `authorize` is idempotent per `reference` (a double-submitted checkout is charged
once) and never raises for a decline, it answers with `approved=False` and a message for the
shopper.

Test cards (any future expiry, any 3-digit CVC):
  4242 4242 4242 4242  approved
  4000 0000 0000 0002  declined ("Your card was declined.")
  4000 0000 0000 9995  declined ("Your card has insufficient funds.")
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string

from orders.models import Payment


@dataclass(frozen=True)
class Card:
    number: str
    exp_month: int
    exp_year: int
    cvc: str

    @property
    def last4(self) -> str:
        return self.number[-4:]


@dataclass(frozen=True)
class Authorization:
    approved: bool
    provider_id: str = ""
    message: str = ""


def luhn_ok(number: str) -> bool:
    digits = [int(d) for d in number]
    checksum = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        checksum += d
    return checksum % 10 == 0


def card_problem(card: Card, today: dt.date) -> str | None:
    """What is wrong with the card details as typed, before asking any provider."""
    if not card.number.isdigit() or not 12 <= len(card.number) <= 19 or not luhn_ok(card.number):
        return "That card number isn't valid. Check the digits."
    if not 1 <= card.exp_month <= 12:
        return "The expiry month must be between 01 and 12."
    if (card.exp_year, card.exp_month) < (today.year, today.month):
        return "This card has expired."
    if not (card.cvc.isdigit() and len(card.cvc) in (3, 4)):
        return "The security code is the 3 digits on the back of the card."
    return None


class PaymentProvider:
    name = "provider"

    def authorize(self, *, amount_cents: int, card: Card, reference: str) -> Authorization:
        raise NotImplementedError

    def void(self, *, provider_id: str) -> None:
        raise NotImplementedError


class LocalTestPaymentProvider(PaymentProvider):
    """Test mode only: approves 4242…4242, declines the decline test numbers, refuses others."""

    name = "local-test"
    DECLINES = {
        "4000000000000002": "Your card was declined.",
        "4000000000009995": "Your card has insufficient funds.",
    }
    APPROVED = {"4242424242424242", "5555555555554444"}

    def authorize(self, *, amount_cents: int, card: Card, reference: str) -> Authorization:
        if card.number in self.DECLINES:
            return Authorization(approved=False, message=self.DECLINES[card.number])
        if card.number not in self.APPROVED:
            return Authorization(
                approved=False,
                message="This demo accepts test cards only, e.g. 4242 4242 4242 4242.",
            )
        return Authorization(approved=True, provider_id=f"test_auth_{secrets.token_hex(8)}")

    def void(self, *, provider_id: str) -> None:
        return None


@cache
def _provider(path: str) -> PaymentProvider:
    return import_string(path)()


def provider() -> PaymentProvider:
    return _provider(settings.MALLRUN_PAYMENT_PROVIDER)


def payment_authorize(*, amount_cents: int, card: Card, reference: str, user=None) -> Payment:
    """Authorise once per reference: a repeated call returns the first answer."""
    existing = Payment.objects.filter(reference=reference).first()
    if existing is not None:
        return existing
    gateway = provider()
    answer = gateway.authorize(amount_cents=amount_cents, card=card, reference=reference)
    payment, _ = Payment.objects.get_or_create(
        reference=reference,
        defaults={
            "user": user,
            "provider": gateway.name,
            "provider_id": answer.provider_id,
            "amount_cents": amount_cents,
            "status": Payment.Status.AUTHORIZED if answer.approved else Payment.Status.DECLINED,
            "card_last4": card.last4,
            "message": answer.message,
        },
    )
    return payment


def payment_void(*, payment: Payment, reason: str) -> Payment:
    if payment.status == Payment.Status.AUTHORIZED:
        provider().void(provider_id=payment.provider_id)
        payment.status = Payment.Status.VOIDED
        payment.message = reason[:200]
        payment.save(update_fields=["status", "message"])
    return payment
