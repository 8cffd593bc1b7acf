"""Store settings, pausing, closures and staff."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied

from orders.permissions import Actor
from orders.quotes import quote_compute
from retailers import clock
from retailers.models import StoreMembership
from retailers.services import (
    DayHours,
    StoreError,
    staff_add,
    staff_change_role,
    staff_remove,
    store_closure_add,
    store_pause,
    store_resume,
    store_settings_update,
)
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_settings_change_hours_prep_and_instructions(store, manager):
    hours = [DayHours(d, dt.time(10), dt.time(21)) for d in range(6)] + [DayHours(6, None, None)]
    store_settings_update(
        store=store,
        actor=Actor.store_staff(manager),
        prep_minutes=20,
        acceptance_minutes=5,
        pickup_instructions="Door 3",
        hours=hours,
    )
    store.refresh_from_db()
    assert (store.prep_minutes, store.acceptance_minutes, store.pickup_instructions) == (
        20,
        5,
        "Door 3",
    )
    assert store.hours.count() == 6
    assert store.hours_on(6) is None


def test_settings_refuse_bad_hours_and_change_nothing(store, manager):
    with pytest.raises(StoreError):
        store_settings_update(
            store=store,
            actor=Actor.store_staff(manager),
            prep_minutes=20,
            acceptance_minutes=5,
            pickup_instructions="",
            hours=[DayHours(0, dt.time(18), dt.time(9))],
        )
    assert store.hours.count() == 7


def test_a_closure_today_closes_the_store_for_quotes(store, manager, mall):
    assert store.is_open_at()
    today = mall.local_now().date()
    store_closure_add(store=store, actor=Actor.store_staff(manager), starts_on=today, ends_on=today)
    store.refresh_from_db()
    assert not store.is_open_at()
    quote = quote_compute(store=store, latitude=mall.latitude, longitude=mall.longitude)
    assert "store_closed" in [r["code"] for r in quote.reasons]


def test_pause_and_resume_take_effect_at_once(store, manager, mall):
    staff = Actor.store_staff(manager)
    store_pause(store=store, actor=staff, until=clock.now() + dt.timedelta(minutes=30))
    assert store.is_paused()
    quote = quote_compute(store=store, latitude=mall.latitude, longitude=mall.longitude)
    assert "store_paused" in [r["code"] for r in quote.reasons]
    store_resume(store=store, actor=staff)
    assert not store.is_paused()
    with pytest.raises(StoreError):
        store_pause(store=store, actor=staff, until=clock.now() - dt.timedelta(minutes=1))


@pytest.mark.parametrize("who", ["associate", "other_staff"])
def test_only_managers_change_settings(request, store, who):
    actor = Actor.store_staff(request.getfixturevalue(who))
    with pytest.raises(PermissionDenied):
        store_pause(store=store, actor=actor, until=clock.now() + dt.timedelta(hours=1))


def test_a_manager_adds_staff_by_email_and_changes_their_role(store, manager):
    existing = f.UserFactory(username="zoe", email="zoe@example.com")
    m = staff_add(
        store=store, actor=Actor.store_staff(manager), email="ZOE@example.com", role="associate"
    )
    assert m.user == existing
    fresh = staff_add(
        store=store, actor=Actor.store_staff(manager), email="new@x.com", role="manager"
    )
    assert not fresh.user.has_usable_password()
    staff_change_role(membership=m, actor=Actor.store_staff(manager), role="manager")
    m.refresh_from_db()
    assert m.role == "manager"
    with pytest.raises(StoreError, match="already works"):
        staff_add(
            store=store, actor=Actor.store_staff(manager), email="zoe@example.com", role="manager"
        )


def test_the_last_manager_stays(store, manager, associate):
    me = StoreMembership.objects.get(user=manager, store=store)
    with pytest.raises(StoreError, match="at least one manager"):
        staff_change_role(membership=me, actor=Actor.store_staff(manager), role="associate")
    with pytest.raises(StoreError, match="at least one manager"):
        staff_remove(membership=me, actor=Actor.store_staff(manager))
    assert StoreMembership.objects.filter(store=store, role="manager").count() == 1
    them = StoreMembership.objects.get(user=associate, store=store)
    staff_remove(membership=them, actor=Actor.store_staff(manager))
    assert not StoreMembership.objects.filter(user=associate).exists()


def test_an_associate_cant_manage_staff(store, associate, manager):
    me = StoreMembership.objects.get(user=manager, store=store)
    with pytest.raises(PermissionDenied):
        staff_remove(membership=me, actor=Actor.store_staff(associate))
    with pytest.raises(PermissionDenied):
        staff_add(store=store, actor=Actor.store_staff(associate), email="a@b.c", role="manager")


def test_new_staff_added_by_email_are_mailed_a_link_to_set_their_password(
    store, manager, mailoutbox, django_capture_on_commit_callbacks
):
    from orders.permissions import Actor
    from retailers.services import staff_add

    with django_capture_on_commit_callbacks(execute=True):
        staff_add(
            store=store, actor=Actor.store_staff(manager), email="Kim@Example.com", role="associate"
        )
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["kim@example.com"]
    assert store.name in mailoutbox[0].subject
    assert "/accounts/reset/" in mailoutbox[0].body
