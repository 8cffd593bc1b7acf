"""The shopper's pages: where to deliver, what's available, cart, checkout, orders, tracking.

Views parse input and call a selector or a service; every page works without JavaScript and
HTMX requests get only the part of the page that changes.
"""

import hashlib
import secrets
import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core.cache import caches
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseStopPolling

from orders import permissions
from orders.board_cache import CSRF_PLACEHOLDER, cached_page, cached_render, viewer_token
from orders.cart import (
    CartError,
    cart_add,
    cart_for_request,
    cart_lines,
    cart_merge_on_login,
    cart_set_quantity,
)
from orders.checkout import checkout_cart, payment_release_if_nothing_left, summarize
from orders.context_processors import cart as cart_context
from orders.forms import (
    AddToCartForm,
    CancelForm,
    CartQuantityForm,
    CheckoutForm,
    LocationForm,
    SignupForm,
    parse_dollars,
)
from orders.models import Address, Order, Payment, Shopper
from orders.permissions import Actor
from orders.quotes import promise_text, promises_for_stores
from orders.selectors import (
    SORTS,
    available_stock,
    orders_for_shopper,
    orders_in_group,
    serving_malls,
)
from orders.services import OrderError, order_cancel
from orders.tracking import (
    TRACKING_RENDER_SECONDS,
    all_final,
    group_tracking,
    render_stamp,
    tracking_stamp,
)
from retailers.geocoding import GeocodingError, geocode
from retailers.models import Product, Stock, Store

LOCATION_KEY = "delivery_location"
PAGE_SIZE = 24


def _is_local(request, url: str) -> bool:
    """A path on this site ("//other.example" starts with a slash too)."""
    return url.startswith("/") and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )


def _location(request) -> dict | None:
    return request.session.get(LOCATION_KEY)


def _remember(request, *, latitude: float, longitude: float, label: str, zip_code: str = ""):
    request.session[LOCATION_KEY] = {
        "latitude": latitude,
        "longitude": longitude,
        "label": label,
        "zip_code": zip_code,
    }


def _remember_place(request, query: str) -> None:
    """Geocode what the shopper typed and keep it for the visit (GeocodingError if unknown)."""
    place = geocode(query)
    _remember(
        request,
        latitude=place.latitude,
        longitude=place.longitude,
        label=place.label,
        zip_code=place.zip_code,
    )


def home(request):
    """Give a ZIP code or share your location; remembered for the visit."""
    location = _location(request)
    if request.method == "POST":
        form = LocationForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            if data.get("latitude") is not None and data.get("longitude") is not None:
                _remember(
                    request,
                    latitude=data["latitude"],
                    longitude=data["longitude"],
                    label="your current location",
                )
                return redirect("shop:availability")
            try:
                _remember_place(request, data["where"])
            except GeocodingError as exc:
                form.add_error("where", str(exc))
            else:
                return redirect("shop:availability")
    else:
        form = LocationForm(initial={"where": (location or {}).get("zip_code", "")})
    from retailers.selectors import malls_with_store_counts

    return render(
        request,
        "storefront/home.html",
        {"form": form, "location": location, "malls": malls_with_store_counts()},
    )


def _filters(request) -> dict:
    get = request.GET
    sort = get.get("sort", "relevance")
    return {
        "q": get.get("q", "").strip()[:100],
        "mall_slug": get.get("mall", ""),
        "store_slug": get.get("store", ""),
        "category": get.get("category", ""),
        "min_cents": parse_dollars(get.get("min", "")),
        "max_cents": parse_dollars(get.get("max", "")),
        "sort": sort if sort in SORTS else "relevance",
    }


@vary_on_headers("HX-Request")
def availability(request):
    """What the malls serving this address have on the shelf, with the same-day promise."""
    location = _location(request)
    zip_code = request.GET.get("zip")
    if zip_code:
        try:
            _remember_place(request, zip_code)
        except GeocodingError as exc:
            messages.error(request, str(exc))
            return redirect("shop:home")
        location = _location(request)
    if location is None:
        messages.info(request, "First tell us where to deliver.")
        return redirect("shop:home")
    lat, lng = location["latitude"], location["longitude"]
    malls = serving_malls(lat, lng)
    filters = _filters(request)
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("zip", None)
    results = _availability_results(request, malls=malls, filters=filters, query=query)
    if request.htmx and not request.htmx.boosted:
        return HttpResponse(results)
    # The frame (header, search form, facets) is the same for this visitor, place and query
    # on every visit: kept in the process like the listing itself, with the listing, the
    # CSRF token and the CSP nonce put in per response.
    request.cart_count = cart_context(request).get("cart_count", 0)
    stamp = (
        request.user.pk,
        request.user.get_username(),
        request.cart_count,
        location["label"],
        tuple(m.pk for m in malls),
        request.GET.urlencode(),
    )
    return cached_page(
        request,
        "storefront/availability.html",
        {
            "location": location,
            "malls": malls,
            "filters": filters,
            "raw": request.GET,
            **_facets(malls),
        },
        key="page:avail:" + hashlib.sha256(repr(stamp).encode()).hexdigest(),
        stamp=stamp,
        seconds=settings.MALLRUN_LISTING_CACHE_SECONDS,
        holes={"results": results},
        shared=False,
    )


def _availability_results(request, *, malls, filters, query) -> str:
    """The product list for this location and these filters.

    Rendered once per location cell (about 100 m), filters and page, and kept for
    MALLRUN_LISTING_CACHE_SECONDS in the process: a listing may lag stock by that much, which
    the cart and checkout never do (they read the rows). The CSRF token is put in per request.
    """
    location = _location(request)
    key = "avail:" + ":".join(
        [
            f"{location['latitude']:.3f}",
            f"{location['longitude']:.3f}",
            ",".join(str(m.pk) for m in malls),
            query.urlencode(),
            request.GET.get("page", "1"),
        ]
    )
    cache = caches["local"]
    html = cache.get(key)
    if html is None:
        page = Paginator(available_stock(malls=malls, **filters), PAGE_SIZE).get_page(
            request.GET.get("page")
        )
        rows = list(page.object_list)
        stores = (
            Store.objects.filter(pk__in={row.store_id for row in rows})
            .select_related("mall")
            .prefetch_related("hours", "closures", "mall__fee_tiers")
        )
        promises = promises_for_stores(
            stores, latitude=location["latitude"], longitude=location["longitude"]
        )
        for row in rows:
            promise = promises[row.store_id]
            row.promise = promise_text(row.store, promise.promised_by)
            row.why_not = promise.reasons[0]["message"] if promise.reasons else ""
        html = render_to_string(
            "storefront/_results.html",
            {
                "page": page,
                "rows": rows,
                "filters": filters,
                "querystring": query.urlencode(),
                "csrf_placeholder": CSRF_PLACEHOLDER,
                "next_url": request.get_full_path(),
            },
        )
        cache.set(key, html, settings.MALLRUN_LISTING_CACHE_SECONDS)
    return mark_safe(html.replace(CSRF_PLACEHOLDER, viewer_token(request)))  # noqa: S308


def _facets(malls) -> dict:
    """Stores and categories to filter by; they change rarely, so kept for a few minutes."""
    key = "facets:" + ",".join(str(m.pk) for m in malls)
    cache = caches["local"]
    facets = cache.get(key)
    if facets is None:
        facets = {
            "stores": list(
                Store.objects.filter(mall__in=malls).order_by("name").values("slug", "name")
            ),
            "categories": list(
                Product.objects.filter(stock__store__mall__in=malls, is_active=True)
                .values_list("category", flat=True)
                .distinct()
                .order_by("category")
            ),
        }
        cache.set(key, facets, settings.MALLRUN_FACETS_CACHE_SECONDS)
    return facets


def product(request, pk: int):
    """One product and how many each store near the shopper has."""
    item = get_object_or_404(Product.objects.select_related("retailer"), pk=pk, is_active=True)
    location = _location(request)
    stock = (
        Stock.objects.filter(product=item, store__mall__is_sandbox=False)
        .select_related("store__mall")
        .order_by("store__name")
    )
    if location:
        malls = serving_malls(location["latitude"], location["longitude"])
        stock = stock.filter(store__mall__in=malls)
    rows = list(stock)
    real = Stock.objects.filter(product=item, store__mall__is_sandbox=False)
    sandbox = Stock.objects.filter(product=item, store__mall__is_sandbox=True)
    if not rows and not real.exists() and sandbox.exists():
        raise Http404("No such product.")  # only the API sandbox stocks it: not for shoppers
    if location and rows:
        stores = (
            Store.objects.filter(pk__in={r.store_id for r in rows})
            .select_related("mall")
            .prefetch_related("hours", "mall__fee_tiers")
        )
        promises = promises_for_stores(
            stores, latitude=location["latitude"], longitude=location["longitude"]
        )
        for row in rows:
            row.promise = promise_text(row.store, promises[row.store_id].promised_by)
    return render(
        request,
        "storefront/product.html",
        {"product": item, "rows": rows, "location": location, "form": AddToCartForm()},
    )


@require_POST
def cart_add_view(request):
    form = AddToCartForm(request.POST)
    back = request.POST.get("next") or ""
    if not _is_local(request, back):
        back = reverse("shop:cart")
    if not form.is_valid():
        messages.error(request, "Choose a quantity between 1 and 20.")
        return redirect(back)
    stock = get_object_or_404(
        Stock.objects.select_related("product", "store__mall"),
        pk=form.cleaned_data["stock"],
        product__is_active=True,
        store__mall__is_sandbox=False,
    )
    cart = cart_for_request(request, create=True)
    try:
        cart_add(cart=cart, stock=stock, quantity=form.cleaned_data["quantity"])
    except CartError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Added {stock.product.title} from {stock.store.name}.")
    return redirect(back)


def cart(request):
    location = _location(request)
    the_cart = cart_for_request(request)
    summaries = summarize(
        the_cart,
        latitude=location["latitude"] if location else None,
        longitude=location["longitude"] if location else None,
    )
    return render(
        request,
        "storefront/cart.html",
        {
            "summaries": summaries,
            "location": location,
            "subtotal": sum(s.subtotal_cents for s in summaries),
            "fee": sum(s.fee_cents for s in summaries),
            "can_checkout": bool(summaries) and all(s.eligible for s in summaries),
        },
    )


@require_POST
def cart_update(request, line_id: int):
    form = CartQuantityForm(request.POST)
    the_cart = cart_for_request(request)
    if the_cart is None:
        return redirect("shop:cart")
    if not form.is_valid():
        messages.error(request, "Choose a quantity between 0 and 20.")
        return redirect("shop:cart")
    try:
        cart_set_quantity(cart=the_cart, line_id=line_id, quantity=form.cleaned_data["quantity"])
    except CartError as exc:
        messages.error(request, str(exc))
    return redirect("shop:cart")


def signup(request):
    """A shopper account: then straight back to checkout with the cart kept."""
    if request.method == "POST":
        form = SignupForm(request.POST)
        if form.is_valid():
            with transaction.atomic():
                user = form.save()
                Shopper.objects.create(user=user, phone=form.cleaned_data["phone"])
            login(request, user, backend="config.login_throttle.ThrottledModelBackend")
            cart_merge_on_login(request, user)
            messages.success(request, "Welcome to Mallrun.")
            nxt = request.POST.get("next") or ""
            return redirect(nxt if _is_local(request, nxt) else reverse("shop:checkout"))
    else:
        form = SignupForm()
    return render(
        request, "registration/signup.html", {"form": form, "next": request.GET.get("next", "")}
    )


def _new_token() -> str:
    return secrets.token_urlsafe(24)


@login_required
def checkout(request):
    if request.method == "POST":
        # The same form again after it placed (double submit, refresh): its orders.
        done = Payment.objects.filter(
            reference=request.POST.get("token", ""), user=request.user, group__isnull=False
        ).first()
        if done is not None:
            return redirect("shop:track", group=done.group)
    the_cart = cart_for_request(request)
    if the_cart is None or not cart_lines(the_cart):
        messages.info(request, "Your cart is empty.")
        return redirect("shop:availability" if _location(request) else "shop:home")
    shopper, _ = Shopper.objects.get_or_create(user=request.user)
    addresses = list(shopper.addresses.order_by("-created_at"))
    location = _location(request)
    result = None
    if request.method == "POST":
        form = CheckoutForm(request.POST, addresses=addresses)
        if form.is_valid():
            address = form.chosen_address() or _new_address(form, shopper, location)
            if address is not None:
                data = form.cleaned_data
                result = checkout_cart(
                    user=request.user,
                    cart=the_cart,
                    address=address,
                    phone=data["phone"],
                    notify_by=data["notify_by"],
                    tip_percent=int(data["tip"]),
                    card=data["card"],
                    token=data["token"],
                    confirm_changes=data["confirm_changes"],
                )
                if result.placed:
                    return redirect("shop:track", group=result.orders[0].group)
                form = _retry_form(request, form, result, addresses)
    else:
        form = CheckoutForm(
            addresses=addresses,
            initial={
                "token": _new_token(),
                "phone": shopper.phone,
                "notify_by": shopper.notify_by,
                "address": str(addresses[0].pk) if addresses else "new",
                "zip_code": (location or {}).get("zip_code", ""),
            },
        )
    chosen = form.addresses.get(str(form["address"].value())) if form.is_bound else None
    point = chosen or (addresses[0] if addresses else None)
    summaries = summarize(
        the_cart,
        latitude=point.latitude if point else (location or {}).get("latitude"),
        longitude=point.longitude if point else (location or {}).get("longitude"),
    )
    return render(
        request,
        "storefront/checkout.html",
        {
            "form": form,
            "summaries": summaries,
            "result": result,
            "subtotal": sum(s.subtotal_cents for s in summaries),
            "fee": sum(s.fee_cents for s in summaries),
        },
    )


def _new_address(form, shopper, location) -> Address | None:
    data = form.cleaned_data
    try:
        place = geocode(data["zip_code"])
    except GeocodingError as exc:
        form.add_error("zip_code", str(exc))
        return None
    latitude, longitude = place.latitude, place.longitude
    if location and location.get("zip_code") == place.zip_code and "latitude" in location:
        latitude, longitude = location["latitude"], location["longitude"]
    same = shopper.addresses.filter(
        line1__iexact=data["line1"].strip(),
        line2__iexact=data["line2"].strip(),
        zip_code=place.zip_code,
    ).first()
    if same is not None:  # typed again after a declined card: don't keep a second copy
        return same
    return Address.objects.create(
        shopper=shopper,
        line1=data["line1"],
        line2=data["line2"],
        city=data["city"],
        state=data["state"],
        zip_code=place.zip_code,
        latitude=latitude,
        longitude=longitude,
        instructions=data["instructions"],
    )


def _retry_form(request, form, result, addresses):
    """Show the same form again, keeping what was typed, with the reason for the refusal."""
    data = request.POST.copy()
    if result.declined or result.reasons:
        # A declined or voided authorisation is final for its token: the next try is a new
        # checkout.
        data["token"] = _new_token()
    if result.changes:
        data["confirm_changes"] = "on"
    form = CheckoutForm(data, addresses=addresses)
    form.is_valid()
    if result.declined:
        form.add_error("card_number", result.declined)
    return form


@login_required
def mine(request):
    return render(request, "orders/mine.html", {"orders": orders_for_shopper(request.user)})


@login_required
def detail(request, number: str):
    order = permissions.get_order_for_user_or_404(request.user, number=number)
    is_shopper = order.shopper_id is not None and order.shopper.user_id == request.user.pk
    if is_shopper:
        return redirect("shop:track", group=order.group)
    return render(request, "orders/detail.html", {"order": order, "show_pin": False})


@login_required
@vary_on_headers("HX-Request")
def track(request, group: uuid.UUID):
    """One checkout's orders, live: polling stops once every order is final. The live part is
    rendered again only when something it shows has changed (orders/tracking.py)."""
    stamp, request.cart_count = tracking_stamp(request.user, group)
    if not stamp:
        raise Http404("No such order.")

    def render_live() -> str:
        orders = orders_in_group(request.user, group)
        context = {
            "tracking": group_tracking(orders),
            "group": group,
            "cancel_form": CancelForm(),
            "csrf_token": CSRF_PLACEHOLDER,
        }
        return render_to_string("storefront/track.html#live", context)

    live = cached_render(
        f"track-html:{group}",
        stamp=render_stamp(stamp),
        seconds=TRACKING_RENDER_SECONDS,
        render=render_live,
    )
    if request.htmx:
        live = live.replace(CSRF_PLACEHOLDER, viewer_token(request))
        if all_final(stamp):
            return HttpResponseStopPolling(live)
        return HttpResponse(live)
    # The frame shows the person's name and cart count; the live part goes in per response.
    return cached_page(
        request,
        "storefront/track.html",
        {"group": group},
        key=f"page:track:{group}",
        stamp=(request.user.pk, request.user.get_username(), request.cart_count),
        seconds=TRACKING_RENDER_SECONDS,
        holes={"live_html": live},
    )


@login_required
@require_POST
def cancel(request, number: str):
    order = Order.objects.filter(number=number, shopper__user=request.user).first()
    if order is None:
        raise Http404("No such order.")
    form = CancelForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a reason to cancel.")
    else:
        try:
            order_cancel(
                order=order, actor=Actor.shopper(request.user), reason=form.cleaned_data["reason"]
            )
        except (OrderError, PermissionDenied) as exc:
            messages.error(request, str(exc))
        else:
            payment_release_if_nothing_left(group=order.group)
            messages.success(request, f"Order {order.number} is cancelled. You won't be charged.")
    return redirect("shop:track", group=order.group)


@login_required
def proof_photo(request, number: str):
    """The proof-of-delivery photo, for the shopper of that order only (never a public URL)."""
    from django.http import FileResponse

    order = Order.objects.filter(number=number, shopper__user=request.user).first()
    proof = getattr(order, "proof", None) if order else None
    if proof is None or not proof.photo:
        raise Http404("No photo.")
    return FileResponse(proof.photo.open("rb"), content_type="image/jpeg")
