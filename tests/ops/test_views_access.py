"""Only ops staff reach /ops/; everyone else gets a 404 (the pages' existence is not shared)."""

import pytest
from django.urls import reverse

PAGES = [
    ("ops:home", []),
    ("ops:board", ["fashion-show"]),
    ("ops:metrics", ["fashion-show"]),
    ("ops:redispatch", ["fashion-show"]),
    ("ops:drivers", []),
    ("ops:audit", []),
]


@pytest.mark.parametrize(("name", "args"), PAGES)
@pytest.mark.parametrize("who", [None, "shopper", "manager", "associate", "driver"])
def test_only_ops_reach_the_board(client, request, mall, who, name, args):
    if who:
        obj = request.getfixturevalue(who)
        client.force_login(getattr(obj, "user", obj))
    response = client.get(reverse(name, args=args))
    assert response.status_code == 404


@pytest.mark.parametrize(("name", "args"), PAGES)
def test_ops_reach_every_page(ops_client, mall, name, args):
    response = ops_client.get(reverse(name, args=args), follow=True)
    assert response.status_code == 200


def test_an_inactive_staff_user_is_not_ops(client, ops_user, mall):
    ops_user.is_active = False
    ops_user.save()
    client.force_login(ops_user)
    assert client.get(reverse("ops:board", args=[mall.slug])).status_code in (302, 404)


def test_non_ops_can_not_post_an_intervention(client, manager, store, mall):
    client.force_login(manager)
    response = client.post(
        reverse("ops:store_pause", args=[store.pk]), {"minutes": 30, "reason": "x"}
    )
    assert response.status_code == 404
    store.refresh_from_db()
    assert store.paused_until is None


def test_a_poll_from_someone_no_longer_ops_stops_polling(client, manager, mall):
    client.force_login(manager)
    response = client.get(reverse("ops:board", args=[mall.slug]), headers={"HX-Request": "true"})
    assert response.status_code == 286


def test_ops_land_on_the_board_after_login(client, ops_user, mall):
    ops_user.set_password("mallrun")
    ops_user.save()
    response = client.post(
        reverse("login"), {"username": ops_user.username, "password": "mallrun"}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("ops:board", args=[mall.slug])
    assert reverse("admin:index").encode() in response.content
