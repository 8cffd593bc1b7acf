from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache

from orders import permissions
from retailers.selectors import malls_with_store_counts


def storefront_home(request):
    """The shopper's front door: the malls we deliver from, and their own recent orders."""
    return render(request, "storefront/home.html", {"malls": malls_with_store_counts()})


@login_required
def home(request):
    """After login every party lands on its own home."""
    return redirect(permissions.home_url_for(request.user))


@never_cache
def health(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok", "database": "ok"})
