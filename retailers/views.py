from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render

from orders.models import Order
from orders.selectors import orders_for_store
from retailers.selectors import stores_for_user


@login_required
def home(request):
    """Store staff's landing page: their store's open orders (members of several pick one)."""
    stores = list(stores_for_user(request.user))
    if not stores:
        raise Http404("You are not a member of any store.")
    wanted = request.GET.get("store")
    store = next((s for s in stores if s.slug == wanted), None) if wanted else stores[0]
    if store is None:
        raise Http404("No such store.")
    orders = list(orders_for_store(store, statuses=Order.OPEN_STATUSES))
    columns = [
        (label, [o for o in orders if o.status == status])
        for status, label in Order.Status.choices
        if status in Order.OPEN_STATUSES
    ]
    return render(
        request,
        "retailers/home.html",
        {"store": store, "stores": stores, "columns": columns},
    )
