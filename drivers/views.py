from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render

from drivers.selectors import current_route, open_offers
from orders import permissions


@login_required
def home(request):
    """The driver's phone home: their state, open offers and the route they hold."""
    driver = permissions.driver_of(request.user)
    if driver is None:
        raise Http404("You have no driver profile.")
    return render(
        request,
        "drivers/home.html",
        {"driver": driver, "offers": open_offers(driver), "route": current_route(driver)},
    )
