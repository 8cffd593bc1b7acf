from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from orders import permissions
from orders.selectors import orders_for_shopper


@login_required
def mine(request):
    return render(request, "orders/mine.html", {"orders": orders_for_shopper(request.user)})


@login_required
def detail(request, number: str):
    order = permissions.get_order_for_user_or_404(request.user, number=number)
    show_pin = order.shopper_id is not None and order.shopper.user_id == request.user.pk
    return render(request, "orders/detail.html", {"order": order, "show_pin": show_pin})
