"""The driver's phone pages. Every page loads only the driver's own offers, routes and stops:
anything else is a 404. Actions go through drivers.services and orders.services."""

import csv
import datetime as dt

from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from drivers import selectors
from drivers.forms import (
    CUSTOMER_MESSAGES,
    DECLINE_REASONS,
    ApplyForm,
    DeclineForm,
    DeliverForm,
    FailForm,
    LocationForm,
    MessageForm,
    OnlineForm,
)
from drivers.models import Block, BlockBooking, Driver, Offer, RouteStop
from drivers.services import (
    DriverError,
    RouteError,
    block_book,
    block_forfeit,
    driver_apply,
    driver_go_offline,
    driver_go_online,
    driver_locate,
    offer_accept,
    offer_decline,
    route_arrive_at_mall,
    stop_keep_fail_photo,
    stop_record_wrong_pin,
)
from orders import permissions
from orders.notifications import send_sms
from orders.permissions import Actor
from orders.services import OrderError, WrongPin, order_deliver, order_fail_delivery
from retailers import clock


def _driver(request) -> Driver:
    driver = permissions.driver_of(request.user)
    if driver is None:
        raise Http404("You have no driver profile.")
    return driver


def _back(request, default: str = "driver:home"):
    return redirect(request.POST.get("next") or default)


@login_required
def home(request):
    """State, going online, open offers and the route being driven."""
    driver = _driver(request)
    offers = [selectors.offer_card(o) for o in selectors.open_offers(driver)]
    return render(
        request,
        "drivers/home.html",
        {
            "driver": driver,
            "offers": offers,
            "route": selectors.current_route(driver),
            "online_form": OnlineForm(initial={"mall": driver.online_mall or driver.home_mall}),
            "decline_choices": DECLINE_REASONS,
        },
    )


def apply(request):
    """Sign up to drive. The application waits for ops; the applicant sees its state."""
    user = request.user if request.user.is_authenticated else None
    if user is not None and permissions.driver_of(user) is not None:
        return redirect("driver:home")
    form = ApplyForm(request.POST or None, request.FILES or None, user=user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                if user is None:
                    user = get_user_model().objects.create_user(
                        username=data["email"],
                        email=data["email"],
                        password=data["password"],
                        first_name=data["first_name"],
                        last_name=data["last_name"],
                    )
                driver_apply(
                    user=user,
                    phone=data["phone"],
                    vehicle_type=data["vehicle_type"],
                    capacity_bags=data["capacity_bags"],
                    plate=data["plate"],
                    home_mall=data["home_mall"],
                    licence_photo=data["licence_photo"],
                    consent=data["consent"],
                )
        except DriverError as exc:
            form.add_error(None, str(exc))
        else:
            if not request.user.is_authenticated:
                login(request, user, backend="config.login_throttle.ThrottledModelBackend")
            messages.success(request, "Thanks! We'll review your application shortly.")
            return redirect("driver:home")
    return render(request, "drivers/apply.html", {"form": form})


@login_required
@require_POST
def go_online(request):
    driver = _driver(request)
    form = OnlineForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a mall.")
        return redirect("driver:home")
    data = form.cleaned_data
    try:
        driver_go_online(
            driver=driver,
            mall=data["mall"],
            latitude=data.get("latitude"),
            longitude=data.get("longitude"),
        )
    except DriverError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"You're online at {data['mall'].name}.")
    return redirect("driver:home")


@login_required
@require_POST
def go_offline(request):
    driver_go_offline(driver=_driver(request))
    messages.success(request, "You're offline. Open offers were withdrawn.")
    return redirect("driver:home")


@login_required
@require_POST
def location(request):
    """The page sends the phone's position every minute while it is open."""
    driver = _driver(request)
    form = LocationForm(request.POST)
    if not form.is_valid():
        return HttpResponse(status=400)
    driver_locate(driver=driver, **form.cleaned_data)
    return HttpResponse(status=204)


@login_required
def offer(request, pk: int):
    driver = _driver(request)
    item = selectors.offer_for_driver(driver, pk)
    if item is None:
        raise Http404("No such offer.")
    return render(
        request,
        "drivers/offer.html",
        {"card": selectors.offer_card(item), "decline_choices": DECLINE_REASONS, "driver": driver},
    )


@login_required
@require_POST
def offer_answer(request, pk: int, answer: str):
    if answer not in ("accept", "decline"):
        raise Http404("No such answer.")
    driver = _driver(request)
    item = Offer.objects.filter(pk=pk, driver=driver).first()
    if item is None:
        raise Http404("No such offer.")
    actor = Actor.driver(request.user)
    try:
        if answer == "accept":
            offer_accept(offer=item, actor=actor)
            messages.success(request, "The route is yours. Head to the mall.")
            return redirect("driver:route")
        form = DeclineForm(request.POST)
        reason = form.cleaned_data["reason"] if form.is_valid() else ""
        offer_decline(offer=item, actor=actor, reason=reason)
        messages.info(request, "Offer declined.")
    except (RouteError, PermissionDenied) as exc:
        messages.error(request, str(exc))
    return redirect("driver:home")


@login_required
def route(request, pk: int | None = None):
    """The route being driven (or a past one): pick-ups in the mall first, then the doors."""
    driver = _driver(request)
    item = selectors.route_for_driver(driver, pk) if pk else selectors.current_route(driver)
    if item is None:
        if pk:
            raise Http404("No such route.")
        messages.info(request, "You have no route right now.")
        return redirect("driver:home")
    stops = list(item.stops.all())
    return render(
        request,
        "drivers/route.html",
        {
            "route": item,
            "pickups": selectors.pickups_with_orders(item),
            "dropoffs": [s for s in stops if s.kind == RouteStop.Kind.DROPOFF],
            "returns": [s for s in stops if s.kind == RouteStop.Kind.RETURN],
        },
    )


@login_required
@require_POST
def route_arrive(request, pk: int):
    driver = _driver(request)
    item = selectors.route_for_driver(driver, pk)
    if item is None:
        raise Http404("No such route.")
    try:
        route_arrive_at_mall(route=item, actor=Actor.driver(request.user))
    except (RouteError, PermissionDenied) as exc:
        messages.error(request, str(exc))
    return redirect("driver:route")


def _own_dropoff(request, pk: int) -> RouteStop:
    driver = _driver(request)
    stop = (
        RouteStop.objects.filter(pk=pk, kind=RouteStop.Kind.DROPOFF, route__driver=driver)
        .select_related("order__address", "order__store__mall", "route")
        .first()
    )
    if stop is None:
        raise Http404("No such stop.")
    return stop


def _stop_page(request, item: RouteStop, *, status: int = 200, **forms):
    """The drop-off page, with whichever form came back with errors."""
    context = {
        "stop": item,
        "order": item.order,
        "deliver_form": DeliverForm(),
        "fail_form": FailForm(),
        "message_form": MessageForm(),
        **forms,
    }
    return render(request, "drivers/stop.html", context, status=status)


@login_required
def stop(request, pk: int):
    return _stop_page(request, _own_dropoff(request, pk))


@login_required
@require_POST
def stop_deliver(request, pk: int):
    item = _own_dropoff(request, pk)
    form = DeliverForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        try:
            order_deliver(
                order=item.order,
                actor=Actor.driver(request.user),
                pin=data["pin"],
                photo=data["photo"],
                latitude=data.get("latitude"),
                longitude=data.get("longitude"),
            )
        except WrongPin as exc:
            attempts = stop_record_wrong_pin(route=item.route, order=item.order)
            item.wrong_pin_attempts = attempts  # the page shows the count just made
            form.add_error("pin", f"{exc} (attempt {attempts})")
        except (OrderError, PermissionDenied) as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Delivered {item.order.number}. Nice work.")
            return redirect("driver:route_detail", pk=item.route_id)
    return _stop_page(request, item, status=400, deliver_form=form)


@login_required
@require_POST
def stop_fail(request, pk: int):
    item = _own_dropoff(request, pk)
    form = FailForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            order_fail_delivery(
                order=item.order,
                actor=Actor.driver(request.user),
                reason=form.cleaned_data["reason"],
            )
        except (OrderError, PermissionDenied) as exc:
            form.add_error(None, str(exc))
        else:
            stop_keep_fail_photo(stop=item, photo=form.cleaned_data["photo"])
            messages.info(request, "Marked as not delivered. Bring it back to the store.")
            return redirect("driver:route_detail", pk=item.route_id)
    return _stop_page(request, item, status=400, fail_form=form)


@login_required
@require_POST
def stop_message(request, pk: int):
    """Text the customer through the SMS provider: the driver never sees their number."""
    item = _own_dropoff(request, pk)
    form = MessageForm(request.POST)
    if not item.order.is_open:
        messages.error(request, "This order is finished: texts can no longer be sent.")
    elif form.is_valid():
        text = dict(CUSTOMER_MESSAGES)[form.cleaned_data["message"]]
        name = request.user.first_name or "Your driver"
        send_sms(item.order.recipient_phone, f"{name} (Mallrun driver): {text}")
        messages.success(request, "Message sent.")
    else:
        messages.error(request, "Choose a message.")
    return redirect("driver:stop", pk=pk)


@login_required
def blocks(request):
    driver = _driver(request)
    return render(
        request,
        "drivers/blocks.html",
        {
            "driver": driver,
            "blocks": selectors.open_blocks(driver),
            "bookings": selectors.my_bookings(driver),
        },
    )


@login_required
@require_POST
def block_book_view(request, pk: int):
    driver = _driver(request)
    block = Block.objects.filter(pk=pk).first()
    if block is None:
        raise Http404("No such block.")
    try:
        block_book(block=block, driver=driver)
    except DriverError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Booked {block}.")
    return redirect("driver:blocks")


@login_required
@require_POST
def block_forfeit_view(request, pk: int):
    driver = _driver(request)
    booking = BlockBooking.objects.filter(pk=pk, driver=driver).first()
    if booking is None:
        raise Http404("No such booking.")
    try:
        block_forfeit(booking=booking, driver=driver)
    except DriverError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, "Block given back.")
    return redirect("driver:blocks")


def _week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def _bounds(driver, day: dt.date, days: int) -> dict:
    """A run of whole days in the driver's mall's time zone (UTC if they have no mall)."""
    mall = driver.home_mall or driver.online_mall
    tz = mall.tz if mall else dt.UTC
    start = dt.datetime.combine(day, dt.time(0), tzinfo=tz)
    return {"since": start, "until": start + dt.timedelta(days=days)}


@login_required
def earnings(request):
    driver = _driver(request)
    mall = driver.home_mall or driver.online_mall
    today = mall.local_now().date() if mall else clock.now().date()
    week = _week_start(today)
    context = {
        "driver": driver,
        "today": selectors.earnings(driver, **_bounds(driver, today, 1)),
        "week": selectors.earnings(driver, **_bounds(driver, week, 7)),
        "weeks": [week - dt.timedelta(weeks=n) for n in range(0, 6)],
    }
    return render(request, "drivers/earnings.html", context)


@login_required
def statement(request, week: str):
    """One week's pay lines as CSV."""
    driver = _driver(request)
    try:
        start = _week_start(dt.date.fromisoformat(week))
    except ValueError:
        raise Http404("No such week.") from None
    bounds = _bounds(driver, start, 7)
    data = selectors.earnings(driver, **bounds)
    response = HttpResponse(content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="mallrun-pay-{start}.csv"'
    writer = csv.writer(response)
    writer.writerow(["date", "route", "kind", "description", "amount"])
    for line in data["lines"].order_by("created_at", "id"):
        writer.writerow(
            [
                line.created_at.astimezone(bounds["since"].tzinfo).date().isoformat(),
                line.route_id or "",
                line.get_kind_display(),
                line.description,
                f"{line.amount_cents / 100:.2f}",
            ]
        )
    writer.writerow(["", "", "Total", "", f"{data['total'] / 100:.2f}"])
    return response
