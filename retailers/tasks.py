"""django-q2 entry points for stores: take ids, load rows, call a service. Nothing else."""

import datetime as dt

from orders.models import Order
from orders.permissions import Actor
from orders.services import SLOW_ACCEPTANCE, order_flag_attention
from retailers import clock


def flag_slow_acceptance() -> int:
    """Every minute: placed orders older than their store's acceptance window go to ops.

    Returns how many were newly flagged. Few orders are placed-and-unflagged at any moment,
    so the window is compared here rather than in SQL (each store has its own).
    """
    now = clock.now()
    actor = Actor.system("acceptance check")
    flagged = 0
    # Sandbox orders (API test-mode keys) wait as long as the integrator likes.
    waiting = Order.objects.filter(
        status=Order.Status.PLACED, attention="", store__mall__is_sandbox=False
    ).select_related("store")
    for order in waiting:
        window = order.store.acceptance_minutes
        if order.placed_at + dt.timedelta(minutes=window) <= now:
            flagged += order_flag_attention(
                order=order,
                actor=actor,
                attention=f"{SLOW_ACCEPTANCE} {window} min by {order.store.name}",
            )
    return flagged


def send_staff_invite(user_id: int, store_id: int) -> None:
    """Mail a person added as store staff a link to choose their password."""
    from urllib.parse import urlsplit

    from django.conf import settings
    from django.contrib.auth import get_user_model

    from config.views import SetPasswordResetForm
    from retailers.models import Store

    user = get_user_model().objects.get(pk=user_id)
    store = Store.objects.get(pk=store_id)
    site = urlsplit(settings.MALLRUN_SITE_URL)
    form = SetPasswordResetForm({"email": user.email})
    if form.is_valid():
        form.save(
            domain_override=site.netloc,
            use_https=site.scheme == "https",
            subject_template_name="registration/staff_invite_subject.txt",
            email_template_name="registration/staff_invite_email.txt",
            extra_email_context={"store": store},
        )
