"""API v1: thin DRF views. Each parses input, finds the row within the caller's reach
(anything else is a 404) and calls the same service the portals call."""

from __future__ import annotations

import csv
import io

from django.contrib.auth import authenticate
from django.db import IntegrityError, connection, transaction
from django.db.models import Prefetch, prefetch_related_objects
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import AuthenticationFailed, PermissionDenied, Throttled
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from config import login_throttle
from orders import services
from orders.api import examples as ex
from orders.api import serializers as s
from orders.api.auth import (
    DRIVER_REFUSALS,
    ApiKeyAuthentication,
    DriverTokenAuthentication,
    HasScope,
    HoldsDriverToken,
    IsDriver,
    actor_for,
    driver_refusal,
    driver_token_create,
    driver_token_revoke,
    orders_for,
    orders_sql,
    sandbox_prepare,
    store_in_reach,
    stores_for,
)
from orders.api.errors import Conflict, Unprocessable
from orders.api.idempotency import idempotent
from orders.api.pagination import NewestFirst, OldestFirst
from orders.api.representations import StampedOrders, page_response
from orders.models import Address, ApiScope, DriverToken, Order, OrderEvent, OrderLine, Quote
from orders.permissions import Actor, driver_of
from orders.promise import Promise as PlacementPromise
from orders.quotes import promises_for_stores, quote_compute, quote_create, quote_is_live
from orders.selectors import available_stock, serving_malls
from retailers.geocoding import geocode
from retailers.models import Product

IDEMPOTENCY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="Retry-safe key (≤ 255 chars), kept 24 h: the same key and body replay the "
    "first response; another body gives 422; a concurrent request gives 409.",
)
IN_FLIGHT = "A request with this Idempotency-Key is still being processed."
ORDER_PATH = "/api/v1/orders/MR-C4X7QPA/"
STORE_ORDER_PATH = "/api/v1/stores/3/orders/MR-C4X7QPA/"
NO_ORDER = "No Order matches the given query."
NOT_A_DRIVER = "Only drivers can sign in to the driver app."


class KeyView(APIView):
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasScope]
    required_scopes: tuple | dict = ()

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        # A test-mode key's first call makes the sandbox mall it works in.
        sandbox_prepare(request.auth)


def _point(data: dict) -> tuple[float, float]:
    if "latitude" in data and "longitude" in data:
        return data["latitude"], data["longitude"]
    place = geocode(data["zip_code"])
    return place.latitude, place.longitude


def _items(store, items: list[dict]) -> list[list[int]]:
    """[{product_id|sku, quantity}] → [[product_id, quantity]] for products of the store's
    retailer; an unknown one is a field error."""
    skus = [i["sku"] for i in items if not i.get("product_id")]
    by_sku = dict(
        Product.objects.filter(retailer_id=store.retailer_id, sku__in=skus).values_list("sku", "pk")
    )
    ids = {i["product_id"] for i in items if i.get("product_id")}
    known = set(
        Product.objects.filter(retailer_id=store.retailer_id, pk__in=ids).values_list(
            "pk", flat=True
        )
    )
    out, errors = [], {}
    for index, item in enumerate(items):
        pid = item.get("product_id") or by_sku.get(item.get("sku"))
        if pid is None or (item.get("product_id") and pid not in known):
            errors[index] = {"product_id": ["This store does not sell that product."]}
            continue
        out.append([pid, item["quantity"]])
    if errors:
        from rest_framework.exceptions import ValidationError

        raise ValidationError({"items": [errors.get(i, {}) for i in range(len(items))]})
    return out


def _reason_errors(reasons: list[dict], items: list[list[int]]) -> list[dict]:
    """Promise reasons as problem errors; a stock reason points at its line (items.N)."""
    index = {pid: i for i, (pid, _) in enumerate(items)}
    return [
        {"field": f"items.{index[r['product_id']]}" if r.get("product_id") in index else None, **r}
        for r in reasons
    ]


# --- Availability -----------------------------------------------------------------------


class AvailabilityView(KeyView):
    required_scopes = (ApiScope.AVAILABILITY_READ,)
    pagination_class = OldestFirst

    @extend_schema(
        operation_id="availability_list",
        summary="In-stock products near a point or ZIP, with each store's delivery promise",
        parameters=[s.AvailabilityQuery],
        responses={
            **ex.ok(200, s.AvailabilityOut(many=True), "Lip gloss at Sephora", ex.AVAILABILITY),
            **ex.problems(
                400,
                422,
                at="/api/v1/availability/",
                scope="availability:read",
                say={
                    400: ex.field_errors(
                        "/api/v1/availability/",
                        (None, "Give latitude and longitude, or a zip_code."),
                    ),
                    422: ex.problem(
                        422, "Unknown ZIP code 00000.", at="/api/v1/availability/", kind="refused"
                    ),
                },
            ),
        },
        tags=["availability"],
    )
    def get(self, request):
        query = s.AvailabilityQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        latitude, longitude = _point(data)
        key = request.auth
        malls = serving_malls(latitude, longitude, sandbox=key.test_mode)
        qs = available_stock(
            malls=malls,
            q=data.get("q", ""),
            store_slug=data.get("store", ""),
            category=data.get("category", ""),
        )
        if key.retailer_id:
            qs = qs.filter(store__retailer_id=key.retailer_id)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(qs, request, view=self)
        stores = list({row.store_id: row.store for row in page}.values())
        promises = promises_for_stores(stores, latitude=latitude, longitude=longitude)
        out = s.AvailabilityOut(page, many=True, context={"promises": promises})
        return paginator.get_paginated_response(out.data)


# --- Quotes -----------------------------------------------------------------------------


class QuoteCreateView(KeyView):
    required_scopes = (ApiScope.QUOTES_WRITE,)

    @extend_schema(
        operation_id="quotes_create",
        summary="A delivery quote: eligibility (or why not), fee and window, valid 15 min",
        request=s.QuoteIn,
        parameters=[IDEMPOTENCY],
        responses={
            **ex.ok(201, s.QuoteOut, "Eligible quote", ex.QUOTE),
            **ex.problems(
                400,
                404,
                409,
                422,
                at="/api/v1/quotes/",
                scope="quotes:write",
                say={
                    400: ex.field_errors(
                        "/api/v1/quotes/",
                        ("zip_code", "This value does not match the required pattern."),
                    ),
                    404: ex.store_not_found("/api/v1/quotes/"),
                    409: ex.problem(
                        409, IN_FLIGHT, at="/api/v1/quotes/", kind="idempotency_in_flight"
                    ),
                },
            ),
        },
        examples=[
            ex.body(
                "Two items by SKU to a ZIP",
                {"store_id": 3, "zip_code": "89109", "items": [{"sku": "LG-1", "quantity": 2}]},
            ),
            ex.body(
                "By product id to a point",
                {
                    "store_id": 3,
                    "latitude": 36.1147,
                    "longitude": -115.1728,
                    "items": [{"product_id": 7, "quantity": 1}],
                },
            ),
        ],
        tags=["quotes"],
    )
    @idempotent
    def post(self, request):
        data = s.QuoteIn(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        store = store_in_reach(request.auth, v["store_id"])
        latitude, longitude = _point(v)
        quote = quote_create(
            store=store,
            latitude=latitude,
            longitude=longitude,
            items=_items(store, v.get("items", [])),
        )
        return Response(s.QuoteOut(quote).data, status=status.HTTP_201_CREATED)


# --- Orders -----------------------------------------------------------------------------


def _order_queryset(key):
    return (
        orders_for(key)
        .select_related("store__mall", "proof")
        .prefetch_related(
            Prefetch("lines", queryset=OrderLine.objects.order_by("id")),
            Prefetch("events", queryset=OrderEvent.objects.order_by("created_at", "id")),
        )
    )


class OrdersView(KeyView):
    required_scopes = {"GET": (ApiScope.ORDERS_READ,), "POST": (ApiScope.ORDERS_WRITE,)}
    pagination_class = NewestFirst

    @extend_schema(
        operation_id="orders_list",
        summary="This key's orders, newest first",
        parameters=[
            OpenApiParameter("status", str, enum=Order.Status.values, required=False),
            OpenApiParameter("external_id", str, required=False),
        ],
        responses={
            **ex.ok(200, s.OrderOut(many=True), "A page of orders", ex.ORDER),
            **ex.problems(at="/api/v1/orders/", scope="orders:read"),
        },
        tags=["orders"],
    )
    def get(self, request):
        qn = connection.ops.quote_name
        where, params = orders_sql(request.auth, qn)
        if request.query_params.get("status"):
            where.append(f"o.{qn('status')} = %s")
            params.append(request.query_params["status"])
        if request.query_params.get("external_id"):
            where.append(f"o.{qn('external_ref')} = %s")
            params.append(request.query_params["external_id"])
        paginator = self.pagination_class()
        # Ids and stamps for the page; only orders changed since they were last written out
        # are loaded and written again (orders/api/representations.py).
        rows = StampedOrders(" AND ".join(where), params)
        page = paginator.paginate_queryset(rows, request, view=self)
        return page_response(
            self,
            request,
            paginator,
            page,
            load=lambda pks: _order_queryset(request.auth).filter(pk__in=pks),
            write=lambda orders: s.OrderOut(orders, many=True).data,
        )

    @extend_schema(
        operation_id="orders_create",
        summary="Place an order from a quote, or from a store's items and an address",
        request=s.OrderIn,
        parameters=[IDEMPOTENCY],
        responses={
            **ex.ok(201, s.OrderOut, "Placed", ex.PLACED_ORDER),
            **ex.problems(
                400,
                404,
                409,
                422,
                at="/api/v1/orders/",
                scope="orders:write",
                say={
                    400: ex.field_errors(
                        "/api/v1/orders/",
                        ("address.zip_code", "This value does not match the required pattern."),
                        ("recipient.name", "This field is required."),
                    ),
                    404: [
                        ("No such quote", ex.problem(404, "No such quote.", at="/api/v1/orders/")),
                        *ex.store_not_found("/api/v1/orders/"),
                    ],
                    409: [
                        (
                            "external_id taken",
                            ex.problem(
                                409,
                                "An order with external_id mkt-10042 already exists.",
                                at="/api/v1/orders/",
                                kind="external_id_taken",
                            ),
                        ),
                        (
                            "Idempotency-Key in flight",
                            ex.problem(
                                409, IN_FLIGHT, at="/api/v1/orders/", kind="idempotency_in_flight"
                            ),
                        ),
                    ],
                    422: [
                        (
                            "Out of stock",
                            ex.problem(
                                422,
                                "Only 1 of Lip Gloss left at Sephora Fashion Show.",
                                at="/api/v1/orders/",
                                kind="checkout_refused",
                                errors=[
                                    {
                                        "field": "items.0",
                                        "line": 0,
                                        "message": "Only 1 of Lip Gloss left.",
                                    }
                                ],
                            ),
                        ),
                        (
                            "Quote expired",
                            ex.problem(
                                422,
                                "This quote has expired; ask for a new one.",
                                at="/api/v1/orders/",
                                kind="quote_expired",
                            ),
                        ),
                    ],
                },
            ),
        },
        examples=[
            ex.body(
                "From a quote",
                {
                    "quote_id": "6f1c1f7e-8a51-4a4e-9d7e-0c6f3f8b9a10",
                    "external_id": "mkt-10042",
                    "address": {
                        "line1": "3200 S Las Vegas Blvd",
                        "city": "Las Vegas",
                        "state": "NV",
                        "zip_code": "89109",
                    },
                    "recipient": {"name": "Alice Shopper", "phone": "+17025550100"},
                },
            ),
            ex.body(
                "From a store's items, with a tip",
                {
                    "store_id": 3,
                    "items": [{"sku": "LG-1", "quantity": 2}],
                    "external_id": "mkt-10043",
                    "tip_cents": 300,
                    "address": {
                        "line1": "1 Main St",
                        "line2": "Apt 4",
                        "city": "Las Vegas",
                        "state": "NV",
                        "zip_code": "89109",
                        "instructions": "Leave with the front desk.",
                    },
                    "recipient": {
                        "name": "Alice Shopper",
                        "phone": "+17025550100",
                        "email": "alice@example.com",
                    },
                },
            ),
            ex.body(
                "Test-mode key: Sandbox Outfitters to the test address",
                {
                    "store_id": 41,
                    "items": [{"sku": "SBX-MUG", "quantity": 2}],
                    "external_id": "sbx-1",
                    "address": {
                        "line1": "200 N Spring St",
                        "city": "Los Angeles",
                        "state": "CA",
                        "zip_code": "90012",
                    },
                    "recipient": {"name": "Test Recipient", "phone": "+13105550100"},
                },
            ),
        ],
        tags=["orders"],
    )
    @idempotent
    def post(self, request):
        data = s.OrderIn(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        key = request.auth
        owner = key.owner_label
        if (
            v["external_id"]
            and Order.objects.filter(partner=owner, external_ref=v["external_id"]).exists()
        ):
            raise Conflict(
                f"An order with external_id {v['external_id']} already exists.",
                code="external_id_taken",
            )
        if v.get("quote_id"):
            quote = Quote.objects.filter(pk=v["quote_id"], store__in=stores_for(key)).first()
            if quote is None:
                from rest_framework.exceptions import NotFound

                raise NotFound("No such quote.")
            if not quote_is_live(quote):
                raise Unprocessable(
                    "This quote has expired; ask for a new one.", code="quote_expired"
                )
            if not quote.eligible:
                raise Unprocessable(
                    "This quote is not eligible for delivery.",
                    code="not_eligible",
                    errors=_reason_errors(quote.reasons, quote.items),
                )
            store, items = quote.store, quote.items
            point = (quote.latitude, quote.longitude)
            promise = PlacementPromise(fee_cents=quote.fee_cents, promised_by=quote.promised_by)
        else:
            store = store_in_reach(key, v["store_id"])
            # Read once for the quote (its hours, closures and fee tiers are asked twice).
            prefetch_related_objects([store], "hours", "closures", "mall__fee_tiers")
            items = _items(store, v["items"])
            point = None
            promise = None
        a = v["address"]
        if point is None:
            point = (
                (a["latitude"], a["longitude"])
                if "latitude" in a and "longitude" in a
                else _point({"zip_code": a["zip_code"]})
            )
        if promise is None:
            computed = quote_compute(
                store=store, latitude=point[0], longitude=point[1], items=items
            )
            if not computed.eligible:
                raise Unprocessable(
                    "This store can't deliver these items to this address now.",
                    code="not_eligible",
                    errors=_reason_errors(computed.reasons, items),
                )
            promise = PlacementPromise(
                fee_cents=computed.fee_cents, promised_by=computed.promised_by
            )
        recipient = v["recipient"]
        try:
            with transaction.atomic():
                address = Address.objects.create(
                    line1=a["line1"],
                    line2=a["line2"],
                    city=a["city"],
                    state=a["state"].upper(),
                    zip_code=a["zip_code"],
                    latitude=point[0],
                    longitude=point[1],
                    instructions=a["instructions"],
                )
                (order,) = services.checkout_place(
                    actor=actor_for(key),
                    items=[services.CartItem(store.pk, pid, qty) for pid, qty in items],
                    address=address,
                    recipient_name=recipient["name"],
                    recipient_phone=recipient["phone"],
                    recipient_email=recipient["email"],
                    tips_cents={store.pk: v["tip_cents"]} if v["tip_cents"] else {},
                    promises={store.pk: promise},
                    channel=Order.Channel.API,
                    partner=owner,
                    external_ref=v["external_id"],
                    test_mode=key.test_mode,
                )
        except IntegrityError:
            raise Conflict(
                f"An order with external_id {v['external_id']} already exists.",
                code="external_id_taken",
            ) from None
        # The placed order comes with its store, mall, lines and event (no need to read it).
        return Response(s.OrderOut(order).data, status=status.HTTP_201_CREATED)


class OrderDetailView(KeyView):
    required_scopes = (ApiScope.ORDERS_READ,)

    @extend_schema(
        operation_id="orders_retrieve",
        summary="One order: status, events, ETA, tracking URL, proof of delivery",
        responses={
            **ex.ok(200, s.OrderOut, "An accepted order", ex.ORDER),
            **ex.problems(404, at=ORDER_PATH, scope="orders:read", say={404: NO_ORDER}),
        },
        tags=["orders"],
    )
    def get(self, request, number: str):
        order = get_object_or_404(_order_queryset(request.auth), number=number)
        return Response(s.OrderOut(order).data)


class OrderCancelView(KeyView):
    required_scopes = (ApiScope.ORDERS_WRITE,)

    @extend_schema(
        operation_id="orders_cancel",
        summary="Cancel an order before pick-up",
        request=s.ReasonIn,
        responses={
            **ex.ok(
                200,
                s.OrderOut,
                "Cancelled",
                {**ex.ORDER, "status": "cancelled", "status_reason": "The shopper changed plans."},
            ),
            **ex.problems(
                400,
                404,
                409,
                at=f"{ORDER_PATH}cancel/",
                scope="orders:write",
                say={
                    404: NO_ORDER,
                    409: "Order MR-C4X7QPA is already with the driver; it can't be cancelled now.",
                },
            ),
        },
        examples=[ex.body("A reason", {"reason": "The shopper changed plans."})],
        tags=["orders"],
    )
    def post(self, request, number: str):
        data = s.ReasonIn(data=request.data)
        data.is_valid(raise_exception=True)
        order = get_object_or_404(orders_for(request.auth), number=number)
        services.order_cancel(
            order=order, actor=actor_for(request.auth), reason=data.validated_data["reason"]
        )
        return Response(s.OrderOut(_order_queryset(request.auth).get(pk=order.pk)).data)


# --- Store inventory and order actions (retailer keys) --------------------------------


class InventoryView(KeyView):
    required_scopes = (ApiScope.INVENTORY_WRITE,)

    @extend_schema(
        operation_id="stores_inventory_upsert",
        summary="Upsert up to 5 000 products and quantities by SKU, all or nothing",
        request=s.InventoryIn,
        responses={
            **ex.ok(200, s.InventoryOut, "One new product, one changed", ex.INVENTORY),
            **ex.problems(
                400,
                404,
                422,
                at="/api/v1/stores/3/inventory/",
                scope="inventory:write",
                say={
                    400: ex.field_errors(
                        "/api/v1/stores/3/inventory/",
                        ("items.0.price_cents", "Ensure this value is greater than or equal to 0."),
                    ),
                    404: ex.store_not_found("/api/v1/stores/3/inventory/"),
                    422: ex.problem(
                        422,
                        "1 row(s) have errors; nothing was written.",
                        at="/api/v1/stores/3/inventory/",
                        kind="inventory_rows_invalid",
                        errors=[
                            {
                                "field": "items.1",
                                "row": 1,
                                "sku": "MS-2",
                                "message": "Title is empty.",
                            }
                        ],
                    ),
                },
            ),
        },
        examples=[
            ex.body(
                "Two rows",
                {
                    "items": [
                        {
                            "sku": "LG-1",
                            "title": "Lip Gloss",
                            "price_cents": 1800,
                            "category": "Makeup",
                            "quantity": 12,
                        },
                        {
                            "sku": "MS-2",
                            "title": "Mascara",
                            "price_cents": 2600,
                            "category": "Makeup",
                            "quantity": 0,
                        },
                    ]
                },
            )
        ],
        tags=["stores"],
    )
    def put(self, request, store_id: int):
        from retailers.services import ImportPlan, catalog_import_apply, catalog_import_parse

        store = store_in_reach(request.auth, store_id, managed=True)
        data = s.InventoryIn(data=request.data)
        data.is_valid(raise_exception=True)
        rows = data.validated_data["items"]
        # The same rules as the portal's CSV import: the rows go through its parser.
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["sku", "title", "price", "category", "quantity"])
        for row in rows:
            writer.writerow(
                [
                    row["sku"],
                    row["title"],
                    f"{row['price_cents'] / 100:.2f}",
                    row["category"],
                    row["quantity"],
                ]
            )
        plan: ImportPlan = catalog_import_parse(buffer.getvalue().encode())
        if plan.file_error:
            raise Unprocessable(plan.file_error)
        if store.mall.is_sandbox:
            # Products are shared with the retailer's real stores: the sandbox sets quantities.
            from retailers.sandbox import sandbox_catalog_errors

            errors = sandbox_catalog_errors(store, plan)
            if errors:
                raise Unprocessable(
                    f"{len(errors)} row(s) would change the catalog; nothing was written.",
                    code="sandbox_catalog_unchanged",
                    errors=errors,
                )
        try:
            result = catalog_import_apply(store=store, actor=actor_for(request.auth), plan=plan)
        except services.OrderError:
            raise
        except Exception as exc:
            from retailers.services import StoreError

            if not isinstance(exc, StoreError):
                raise
            errors = [
                {"field": f"items.{i}", "row": i, "sku": r.sku, "message": " ".join(r.errors)}
                for i, r in enumerate(plan.rows)
                if r.errors
            ]
            raise Unprocessable(
                f"{len(errors)} row(s) have errors; nothing was written.",
                code="inventory_rows_invalid",
                errors=errors,
            ) from None
        return Response(
            {"created": result.created, "updated": result.updated, "unchanged": result.unchanged}
        )


class StoreOrdersView(KeyView):
    required_scopes = (ApiScope.STORE_ORDERS_WRITE,)
    pagination_class = NewestFirst

    @extend_schema(
        operation_id="stores_orders_list",
        summary="A store's orders (open ones by default)",
        parameters=[OpenApiParameter("status", str, enum=Order.Status.values, required=False)],
        responses={
            **ex.ok(200, s.OrderOut(many=True), "Open orders", ex.ORDER),
            **ex.problems(
                404,
                at="/api/v1/stores/3/orders/",
                scope="store_orders:write",
                say={404: ex.store_not_found("/api/v1/stores/3/orders/")},
            ),
        },
        tags=["stores"],
    )
    def get(self, request, store_id: int):
        store = store_in_reach(request.auth, store_id, managed=True)
        qs = _order_queryset(request.auth).filter(store=store)
        wanted = request.query_params.get("status")
        qs = qs.filter(status=wanted) if wanted else qs.filter(status__in=Order.OPEN_STATUSES)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(s.OrderOut(page, many=True).data)


ACTIONS = {
    "accept": (s.AcceptIn, lambda o, a, d: services.order_accept(order=o, actor=a, **d)),
    "reject": (s.ReasonIn, lambda o, a, d: services.order_reject(order=o, actor=a, **d)),
    "ready": (s.ReadyIn, lambda o, a, d: services.order_mark_ready(order=o, actor=a, **d)),
    "hand-over": (
        s.HandOverIn,
        lambda o, a, d: services.order_pick_up(order=o, actor=a, **d),
    ),
    "return": (
        s.ReasonIn,
        lambda o, a, d: services.order_return(order=o, actor=a, note=d["reason"]),
    ),
}


def _store_order(request, store_id: int, number: str) -> Order:
    store = store_in_reach(request.auth, store_id, managed=True)
    return get_object_or_404(orders_for(request.auth), store=store, number=number)


class StoreOrderActionView(KeyView):
    required_scopes = (ApiScope.STORE_ORDERS_WRITE,)
    action_name = ""

    def post(self, request, store_id: int, number: str):
        serializer_class, act = ACTIONS[self.action_name]
        data = serializer_class(data=request.data)
        data.is_valid(raise_exception=True)
        order = _store_order(request, store_id, number)
        act(order, actor_for(request.auth), dict(data.validated_data))
        return Response(s.OrderOut(_order_queryset(request.auth).get(pk=order.pk)).data)


# Per action: a request body, the order afterwards, the wrong-state message, and a 422 body
# when the service can refuse the move by a rule.
ACTION_DOCS = {
    "accept": (
        {"prep_minutes": 15},
        ex.ORDER,
        "Order MR-C4X7QPA is rejected; it can't be moved to accepted.",
        None,
    ),
    "reject": (
        {"reason": "Damaged in the stockroom."},
        {**ex.PLACED_ORDER, "status": "rejected", "status_reason": "Damaged in the stockroom."},
        "Order MR-C4X7QPA is ready; it can't be moved to rejected.",
        None,
    ),
    "ready": (
        {"bags": 2},
        {**ex.ORDER, "status": "ready", "bags": 2, "ready_at": "2026-11-25T19:12:00Z"},
        "Order MR-C4X7QPA is placed; it can't be moved to ready.",
        None,
    ),
    "hand-over": (
        {"handover_code": "482915"},
        {**ex.ORDER, "status": "picked_up", "picked_up_at": "2026-11-25T19:22:00Z"},
        "Order MR-C4X7QPA is accepted; it can't be moved to picked up.",
        "That code doesn't match the driver collecting this order.",
    ),
    "return": (
        {"reason": "Nobody home; back on the shelf."},
        {**ex.ORDER, "status": "returned"},
        "Order MR-C4X7QPA is picked up; it can't be moved to returned.",
        None,
    ),
}


def store_action_view(name: str, summary: str):
    serializer_class = ACTIONS[name][0]
    request_body, after, wrong_state, refusal = ACTION_DOCS[name]
    at = f"{STORE_ORDER_PATH}{name}/"

    @extend_schema(
        operation_id=f"stores_orders_{name.replace('-', '_')}",
        summary=summary,
        request=serializer_class,
        responses={
            **ex.ok(200, s.OrderOut, f"After {name}", after),
            **ex.problems(
                400,
                404,
                409,
                *([422] if refusal else []),
                at=at,
                scope="store_orders:write",
                say={
                    400: ex.field_errors(
                        at, (next(iter(request_body)), "A valid value is required.")
                    ),
                    404: [("No such order", ex.problem(404, NO_ORDER, at=at))]
                    + ex.store_not_found(at),
                    409: wrong_state,
                    422: ex.problem(422, refusal or "", at=at, kind="refused"),
                },
            ),
        },
        examples=[ex.body(f"{name.title()} {next(iter(request_body))}", request_body)],
        tags=["stores"],
    )
    def post(self, request, store_id: int, number: str):
        return StoreOrderActionView.post(self, request, store_id, number)

    return type(
        f"StoreOrder{name.title().replace('-', '')}View",
        (StoreOrderActionView,),
        {"action_name": name, "post": post},
    )


class StoreOrderLineUnavailableView(KeyView):
    required_scopes = (ApiScope.STORE_ORDERS_WRITE,)

    @extend_schema(
        operation_id="stores_orders_line_unavailable",
        summary="A line can't be found (fully or partly): the order shrinks or is rejected",
        request=s.UnavailableIn,
        responses={
            **ex.ok(
                200,
                s.OrderOut,
                "One of two found",
                {
                    **ex.ORDER,
                    "lines": [{**ex.ORDER["lines"][0], "quantity": 1}],
                    "subtotal_cents": 1800,
                    "total_cents": 2399,
                },
            ),
            **ex.problems(
                400,
                404,
                409,
                422,
                at=f"{STORE_ORDER_PATH}lines/11/unavailable/",
                scope="store_orders:write",
                say={
                    400: ex.field_errors(
                        f"{STORE_ORDER_PATH}lines/11/unavailable/",
                        ("available", "Ensure this value is greater than or equal to 0."),
                    ),
                    404: [
                        (
                            "No such line",
                            ex.problem(
                                404,
                                "No OrderLine matches the given query.",
                                at=f"{STORE_ORDER_PATH}lines/11/unavailable/",
                            ),
                        ),
                        *ex.store_not_found(f"{STORE_ORDER_PATH}lines/11/unavailable/"),
                    ],
                    409: "Order MR-C4X7QPA is picked up; it can no longer be changed.",
                    422: ex.problem(
                        422,
                        "The order only asks for 2 of Lip Gloss.",
                        at=f"{STORE_ORDER_PATH}lines/11/unavailable/",
                        kind="refused",
                    ),
                },
            ),
        },
        examples=[
            ex.body("One of two found", {"available": 1, "note": "Only one on the shelf."}),
            ex.body("None found", {"available": 0}),
        ],
        tags=["stores"],
    )
    def post(self, request, store_id: int, number: str, line_id: int):
        data = s.UnavailableIn(data=request.data)
        data.is_valid(raise_exception=True)
        order = _store_order(request, store_id, number)
        line = get_object_or_404(OrderLine, pk=line_id, order=order)
        services.order_line_unavailable(
            line=line, actor=actor_for(request.auth), **data.validated_data
        )
        return Response(s.OrderOut(_order_queryset(request.auth).get(pk=order.pk)).data)


# --- Sandbox ----------------------------------------------------------------------------


class SandboxAdvanceView(KeyView):
    required_scopes = (ApiScope.ORDERS_WRITE,)

    @extend_schema(
        operation_id="sandbox_orders_advance",
        summary="Test-mode keys: move a sandbox order one step along its life",
        request=s.SandboxAdvanceIn,
        responses={
            **ex.ok(200, s.OrderOut, "One step on", ex.SANDBOX_ORDER),
            **ex.problems(
                400,
                404,
                409,
                at="/api/v1/sandbox/orders/MR-T8S2KBX/advance/",
                scope="orders:write",
                say={
                    400: ex.field_errors(
                        "/api/v1/sandbox/orders/MR-T8S2KBX/advance/",
                        ("to", '"shipped" is not a valid choice.'),
                    ),
                    404: "The sandbox is for test-mode keys.",
                    409: "Order MR-T8S2KBX is delivered; it has no next step.",
                },
            ),
        },
        examples=[
            ex.body("One step along the happy path", {}),
            ex.body("Straight to returned", {"to": "returned"}),
        ],
        tags=["sandbox"],
    )
    def post(self, request, number: str):
        from orders.api.sandbox import sandbox_advance

        data = s.SandboxAdvanceIn(data=request.data)
        data.is_valid(raise_exception=True)
        key = request.auth
        if not key.test_mode:
            from rest_framework.exceptions import NotFound

            raise NotFound("The sandbox is for test-mode keys.")
        order = get_object_or_404(orders_for(key), number=number, test_mode=True)
        sandbox_advance(order=order, to=data.validated_data.get("to") or "")
        return Response(s.OrderOut(_order_queryset(key).get(pk=order.pk)).data)


# --- Driver (the web view's session, or a driver token from the app) ---------------------

DRIVER_OFFER_PATH = "/api/v1/driver/offers/30/"
DRIVER_ROUTE_PATH = "/api/v1/driver/routes/12/"
DRIVER_STOP_PATH = "/api/v1/driver/stops/42/"


class DriverView(APIView):
    # The token first: its WWW-Authenticate header makes "not signed in" a 401, not a 403.
    authentication_classes = [DriverTokenAuthentication, SessionAuthentication]
    permission_classes = [IsDriver]

    def driver(self):
        if isinstance(self.request.auth, DriverToken):
            return self.request.auth.driver
        return driver_of(self.request.user)

    def actor(self) -> Actor:
        return Actor.driver(self.request.user)


class DriverTokensView(APIView):
    """The app signs in: a driver's username and password in, a token out (shown once).

    No Idempotency-Key here: before the password is checked there is no caller to scope a
    key to, and replaying the response would mean storing the token itself, which is kept
    only as a hash. A retried sign-in makes another token; the app keeps the last one."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    def get_authenticate_header(self, request):
        # Names the scheme so a wrong password is a 401 (DRF turns it into a 403 otherwise).
        return DriverTokenAuthentication().authenticate_header(request)

    @extend_schema(
        operation_id="driver_tokens_create",
        summary="Sign in from the app: a driver token for the driver endpoints (shown once)",
        request=s.DriverTokenIn,
        responses={
            **ex.ok(201, s.DriverTokenCreated, "A new token", ex.DRIVER_TOKEN_CREATED),
            **ex.problems(
                400,
                at="/api/v1/driver/tokens/",
                caller=ex.SIGN_IN,
                say={
                    400: ex.field_errors(
                        "/api/v1/driver/tokens/", ("password", "This field is required.")
                    ),
                    403: [
                        (
                            "Suspended",
                            ex.problem(
                                403,
                                DRIVER_REFUSALS["suspended"] + " Reason: Repeated late deliveries.",
                                at="/api/v1/driver/tokens/",
                                kind="permission_denied",
                            ),
                        ),
                        (
                            "Not a driver",
                            ex.problem(
                                403,
                                NOT_A_DRIVER,
                                at="/api/v1/driver/tokens/",
                                kind="permission_denied",
                            ),
                        ),
                    ],
                },
            ),
        },
        examples=[
            ex.body(
                "Dan's phone",
                {"username": "dan-driver", "password": "correct horse battery", "name": "Pixel 8"},
            )
        ],
        tags=["driver"],
    )
    def post(self, request):
        data = s.DriverTokenIn(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        # The same lock as the login page and admin (config/login_throttle.py): failures are
        # counted by authenticate() itself, per username and per address.
        locked = login_throttle.locked_for(request._request, v["username"])
        if locked:
            raise Throttled(wait=locked)
        user = authenticate(request._request, username=v["username"], password=v["password"])
        if user is None:
            locked = login_throttle.locked_for(request._request, v["username"])
            if locked:
                raise Throttled(wait=locked)
            raise AuthenticationFailed("Wrong username or password.")
        driver = driver_of(user)
        if driver is None:
            raise PermissionDenied(NOT_A_DRIVER)
        refusal = driver_refusal(driver)
        if refusal:
            raise PermissionDenied(refusal)
        token, raw = driver_token_create(driver=driver, name=v["name"])
        return Response(
            {**s.DriverTokenOut(token).data, "token": raw}, status=status.HTTP_201_CREATED
        )


class DriverTokenCurrentView(APIView):
    """The app signs out: the token in the Authorization header is revoked."""

    authentication_classes = [DriverTokenAuthentication]
    permission_classes = [HoldsDriverToken]

    @extend_schema(
        operation_id="driver_tokens_revoke_current",
        summary="Sign the app out: revoke the token this request is sent with",
        request=None,
        responses={
            **ex.ok(
                200,
                s.DriverTokenOut,
                "Revoked",
                {
                    **ex.DRIVER_TOKEN,
                    "last_used_at": "2026-11-25T23:58:00Z",
                    "revoked_at": "2026-11-26T00:02:00Z",
                },
            ),
            **ex.problems(at="/api/v1/driver/tokens/current/", caller=ex.DRIVER_TOKEN_ONLY),
        },
        tags=["driver"],
    )
    def delete(self, request):
        token = driver_token_revoke(token=request.auth, actor=Actor.driver(request.user))
        return Response(s.DriverTokenOut(token).data)


class DriverOffersView(DriverView):
    @extend_schema(
        operation_id="driver_offers_list",
        summary="The signed-in driver's open offers",
        responses={
            **ex.ok(200, s.OfferOut(many=True), "One open offer", ex.OFFER),
            **ex.problems(at="/api/v1/driver/offers/", caller=ex.DRIVER),
        },
        tags=["driver"],
    )
    def get(self, request):
        from drivers import selectors

        return Response(s.OfferOut(selectors.open_offers(self.driver()), many=True).data)


class DriverOfferAnswerView(DriverView):
    answer = "accept"

    def post(self, request, pk: int):
        from drivers.models import Offer
        from drivers.services import offer_accept, offer_decline

        offer = get_object_or_404(Offer, pk=pk, driver=self.driver())
        if self.answer == "accept":
            offer_accept(offer=offer, actor=self.actor())
        else:
            data = s.DeclineIn(data=request.data)
            data.is_valid(raise_exception=True)
            offer_decline(offer=offer, actor=self.actor(), reason=data.validated_data["reason"])
        from drivers import selectors

        offer = selectors.offer_for_driver(self.driver(), pk)
        return Response(s.OfferOut(offer).data)


NO_OFFER = "No Offer matches the given query."


class DriverOfferAcceptView(DriverOfferAnswerView):
    answer = "accept"

    @extend_schema(
        operation_id="driver_offers_accept",
        summary="Take the route offered (the first driver to accept gets it)",
        request=None,
        responses={
            **ex.ok(
                200, s.OfferOut, "Accepted", {**ex.OFFER, "status": "accepted", "route": ex.ROUTE}
            ),
            **ex.problems(
                404,
                422,
                at=f"{DRIVER_OFFER_PATH}accept/",
                caller=ex.DRIVER,
                say={
                    404: NO_OFFER,
                    422: ex.problem(
                        422,
                        "Another driver took this route first.",
                        at=f"{DRIVER_OFFER_PATH}accept/",
                        kind="refused",
                    ),
                },
            ),
        },
        tags=["driver"],
    )
    def post(self, request, pk: int):
        return super().post(request, pk)


class DriverOfferDeclineView(DriverOfferAnswerView):
    answer = "decline"

    @extend_schema(
        operation_id="driver_offers_decline",
        summary="Say no to an offer (a reason is optional)",
        request=s.DeclineIn,
        responses={
            **ex.ok(200, s.OfferOut, "Declined", {**ex.OFFER, "status": "declined"}),
            **ex.problems(
                400,
                404,
                422,
                at=f"{DRIVER_OFFER_PATH}decline/",
                caller=ex.DRIVER,
                say={
                    400: ex.field_errors(
                        f"{DRIVER_OFFER_PATH}decline/",
                        ("reason", "Ensure this field has no more than 200 characters."),
                    ),
                    404: NO_OFFER,
                    422: ex.problem(
                        422,
                        "This offer is no longer open.",
                        at=f"{DRIVER_OFFER_PATH}decline/",
                        kind="refused",
                    ),
                },
            ),
        },
        examples=[ex.body("Too far", {"reason": "Too far from where I am."})],
        tags=["driver"],
    )
    def post(self, request, pk: int):
        return super().post(request, pk)


class DriverRoutesView(DriverView):
    @extend_schema(
        operation_id="driver_routes_list",
        summary="The driver's current route (empty list when none)",
        responses={
            **ex.ok(200, s.RouteOut(many=True), "The route in hand", ex.ROUTE),
            **ex.problems(at="/api/v1/driver/routes/", caller=ex.DRIVER),
        },
        tags=["driver"],
    )
    def get(self, request):
        from drivers import selectors

        route = selectors.current_route(self.driver())
        return Response(s.RouteOut([route] if route else [], many=True).data)


class DriverRouteDetailView(DriverView):
    @extend_schema(
        operation_id="driver_routes_retrieve",
        summary="One of the driver's routes, with its stops and the hand-over code",
        responses={
            **ex.ok(200, s.RouteOut, "A route", ex.ROUTE),
            **ex.problems(404, at=DRIVER_ROUTE_PATH, caller=ex.DRIVER, say={404: "No such route."}),
        },
        tags=["driver"],
    )
    def get(self, request, pk: int):
        from drivers import selectors

        route = selectors.route_for_driver(self.driver(), pk)
        if route is None:
            from rest_framework.exceptions import NotFound

            raise NotFound("No such route.")
        return Response(s.RouteOut(route).data)


class DriverRouteArriveView(DriverView):
    @extend_schema(
        operation_id="driver_routes_arrive",
        summary="At the mall: start collecting",
        request=None,
        responses={
            **ex.ok(
                200,
                s.RouteOut,
                "Collecting",
                {
                    **ex.ROUTE,
                    "status": "picking_up",
                    "stops": [{**ex.PICKUP, "status": "arrived"}, ex.DROPOFF],
                },
            ),
            **ex.problems(
                404,
                422,
                at=f"{DRIVER_ROUTE_PATH}arrive/",
                caller=ex.DRIVER,
                say={
                    404: "No such route.",
                    422: ex.problem(
                        422,
                        "Route 12 is completed; it can't be picking_up.",
                        at=f"{DRIVER_ROUTE_PATH}arrive/",
                        kind="refused",
                    ),
                },
            ),
        },
        tags=["driver"],
    )
    def post(self, request, pk: int):
        from drivers import selectors
        from drivers.services import route_arrive_at_mall

        route = selectors.route_for_driver(self.driver(), pk)
        if route is None:
            from rest_framework.exceptions import NotFound

            raise NotFound("No such route.")
        route_arrive_at_mall(route=route, actor=self.actor())
        return Response(s.RouteOut(selectors.route_for_driver(self.driver(), pk)).data)


def _own_dropoff(driver, pk: int):
    from drivers.models import RouteStop

    return get_object_or_404(
        RouteStop.objects.select_related("order__address", "order__store__mall", "route"),
        pk=pk,
        kind=RouteStop.Kind.DROPOFF,
        route__driver=driver,
    )


NO_STOP = "No RouteStop matches the given query."


class DriverStopDeliverView(DriverView):
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(
        operation_id="driver_stops_deliver",
        summary="Hand over at the door with proof: the shopper's PIN and/or a photo",
        request={"multipart/form-data": s.DeliverIn, "application/json": s.DeliverIn},
        responses={
            **ex.ok(200, s.StopOut, "Delivered", {**ex.DROPOFF, "status": "done"}),
            **ex.problems(
                400,
                404,
                409,
                422,
                at=f"{DRIVER_STOP_PATH}deliver/",
                caller=ex.DRIVER,
                say={
                    400: ex.field_errors(
                        f"{DRIVER_STOP_PATH}deliver/",
                        ("pin", "This value does not match the required pattern."),
                    ),
                    404: NO_STOP,
                    409: "Order MR-C4X7QPA is delivered; it can't be moved to delivered.",
                    422: [
                        (
                            "Wrong PIN",
                            ex.problem(
                                422,
                                "That PIN is not right. Ask the shopper to check their order "
                                "page. (attempt 1)",
                                at=f"{DRIVER_STOP_PATH}deliver/",
                                kind="wrong_pin",
                            ),
                        ),
                        (
                            "No proof",
                            ex.problem(
                                422,
                                "Enter the shopper's PIN or take a photo of the delivery.",
                                at=f"{DRIVER_STOP_PATH}deliver/",
                                kind="refused",
                            ),
                        ),
                    ],
                },
            ),
        },
        examples=[
            ex.body(
                "The shopper's PIN",
                {"pin": "4821", "latitude": 36.1401, "longitude": -115.1502},
                media_type="application/json",
            ),
            ex.body(
                "A photo at the door",
                {"photo": "(JPEG bytes)", "latitude": 36.1401, "longitude": -115.1502},
                media_type="multipart/form-data",
            ),
        ],
        tags=["driver"],
    )
    def post(self, request, pk: int):
        from drivers.services import stop_record_wrong_pin

        stop = _own_dropoff(self.driver(), pk)
        data = s.DeliverIn(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        try:
            services.order_deliver(
                order=stop.order,
                actor=self.actor(),
                pin=v.get("pin"),
                photo=v.get("photo"),
                latitude=v.get("latitude"),
                longitude=v.get("longitude"),
            )
        except services.WrongPin as exc:
            attempts = stop_record_wrong_pin(route=stop.route, order=stop.order)
            raise Unprocessable(f"{exc} (attempt {attempts})", code="wrong_pin") from None
        stop.refresh_from_db()
        return Response(s.StopOut(stop).data)


class DriverStopFailView(DriverView):
    @extend_schema(
        operation_id="driver_stops_fail",
        summary="Nobody could take the order: bring it back to the store",
        request=s.ReasonIn,
        responses={
            **ex.ok(
                200, s.StopOut, "Failed: back to the store", {**ex.DROPOFF, "status": "failed"}
            ),
            **ex.problems(
                400,
                404,
                409,
                at=f"{DRIVER_STOP_PATH}fail/",
                caller=ex.DRIVER,
                say={
                    404: NO_STOP,
                    409: "Order MR-C4X7QPA is delivered; it can't be moved to delivery failed.",
                },
            ),
        },
        examples=[ex.body("Nobody home", {"reason": "Nobody answered the door or the phone."})],
        tags=["driver"],
    )
    def post(self, request, pk: int):
        stop = _own_dropoff(self.driver(), pk)
        data = s.ReasonIn(data=request.data)
        data.is_valid(raise_exception=True)
        services.order_fail_delivery(
            order=stop.order, actor=self.actor(), reason=data.validated_data["reason"]
        )
        stop.refresh_from_db()
        return Response(s.StopOut(stop).data)


# --- Webhooks (the key owner's endpoints and their delivery log) -------------------------


def _endpoints(key):
    """The key owner's endpoints of the key's own mode: a test key never sees live ones."""
    from orders.models import WebhookEndpoint

    mine = WebhookEndpoint.objects.filter(test_mode=key.test_mode)
    if key.retailer_id:
        return mine.filter(retailer_id=key.retailer_id)
    return mine.filter(partner=key.partner)


class WebhookEndpointsView(KeyView):
    required_scopes = (ApiScope.WEBHOOKS_WRITE,)
    pagination_class = NewestFirst

    @extend_schema(
        operation_id="webhooks_endpoints_list",
        summary="This owner's webhook endpoints (no secrets)",
        responses={
            **ex.ok(200, s.WebhookEndpointOut(many=True), "One endpoint", ex.WEBHOOK_ENDPOINT),
            **ex.problems(at="/api/v1/webhooks/endpoints/", scope="webhooks:write"),
        },
        tags=["webhooks"],
    )
    def get(self, request):
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(_endpoints(request.auth), request, view=self)
        return paginator.get_paginated_response(s.WebhookEndpointOut(page, many=True).data)

    @extend_schema(
        operation_id="webhooks_endpoints_create",
        summary="Add an endpoint (the signing secret is in this response only)",
        request=s.WebhookEndpointIn,
        parameters=[IDEMPOTENCY],
        responses={
            **ex.ok(201, s.WebhookEndpointCreated, "Created", ex.WEBHOOK_ENDPOINT_CREATED),
            **ex.problems(
                400,
                409,
                422,
                at="/api/v1/webhooks/endpoints/",
                scope="webhooks:write",
                say={
                    400: ex.field_errors(
                        "/api/v1/webhooks/endpoints/",
                        ("url", "Enter a valid URL."),
                        ("events.0", '"order.shipped" is not a valid choice.'),
                    ),
                    409: ex.problem(
                        409,
                        IN_FLIGHT,
                        at="/api/v1/webhooks/endpoints/",
                        kind="idempotency_in_flight",
                    ),
                },
            ),
        },
        examples=[
            ex.body(
                "Two events",
                {
                    "url": "https://acme.example/hooks/mallrun",
                    "events": ["order.accepted", "order.delivered"],
                },
            ),
            ex.body("Every event", {"url": "https://acme.example/hooks/mallrun"}),
        ],
        tags=["webhooks"],
    )
    @idempotent
    def post(self, request):
        from orders.webhooks import webhook_endpoint_create

        data = s.WebhookEndpointIn(data=request.data)
        data.is_valid(raise_exception=True)
        key = request.auth
        endpoint = webhook_endpoint_create(
            url=data.validated_data["url"],
            events=data.validated_data["events"],
            partner=key.partner,
            retailer=key.retailer if key.retailer_id else None,
            test_mode=key.test_mode,
            actor=actor_for(key),
        )
        return Response(s.WebhookEndpointCreated(endpoint).data, status=status.HTTP_201_CREATED)


class WebhookEndpointActionView(KeyView):
    required_scopes = (ApiScope.WEBHOOKS_WRITE,)
    action_name = ""

    def post(self, request, pk: int):
        from orders import webhooks as w

        endpoint = get_object_or_404(_endpoints(request.auth), pk=pk)
        if self.action_name == "test":
            delivery = w.webhook_send_test(endpoint=endpoint)
            return Response(s.WebhookDeliveryOut(delivery).data, status=status.HTTP_202_ACCEPTED)
        if self.action_name == "rotate":
            endpoint = w.webhook_secret_rotate(endpoint=endpoint, actor=actor_for(request.auth))
            return Response(s.WebhookEndpointCreated(endpoint).data)
        w.webhook_endpoint_enable(endpoint=endpoint)
        endpoint.refresh_from_db()
        # The secret is shown at creation and rotation only.
        return Response(s.WebhookEndpointOut(endpoint).data)


class WebhookEndpointTestView(WebhookEndpointActionView):
    action_name = "test"

    @extend_schema(
        operation_id="webhooks_endpoints_test",
        summary="Send a signed webhook.test event now",
        request=None,
        responses={
            **ex.ok(202, s.WebhookDeliveryOut, "Queued", ex.WEBHOOK_TEST_QUEUED),
            **ex.problems(
                404,
                at="/api/v1/webhooks/endpoints/5/test/",
                scope="webhooks:write",
                say={404: "No WebhookEndpoint matches the given query."},
            ),
        },
        tags=["webhooks"],
    )
    def post(self, request, pk: int):
        return super().post(request, pk)


class WebhookEndpointRotateView(WebhookEndpointActionView):
    action_name = "rotate"

    @extend_schema(
        operation_id="webhooks_endpoints_rotate_secret",
        summary="New secret; the old one keeps signing beside it for 24 hours",
        request=None,
        responses={
            **ex.ok(
                200,
                s.WebhookEndpointCreated,
                "The new secret",
                {**ex.WEBHOOK_ENDPOINT_CREATED, "secret": "whsec_q3B8vYl0RZ9k2W1mJxT5uP7nC4eA6dHs"},
            ),
            **ex.problems(
                404,
                at="/api/v1/webhooks/endpoints/5/rotate-secret/",
                scope="webhooks:write",
                say={404: "No WebhookEndpoint matches the given query."},
            ),
        },
        tags=["webhooks"],
    )
    def post(self, request, pk: int):
        return super().post(request, pk)


class WebhookEndpointEnableView(WebhookEndpointActionView):
    action_name = "enable"

    @extend_schema(
        operation_id="webhooks_endpoints_enable",
        summary="Re-enable an endpoint that was disabled after a day of failures",
        request=None,
        responses={
            **ex.ok(200, s.WebhookEndpointOut, "Enabled again", ex.WEBHOOK_ENDPOINT),
            **ex.problems(
                404,
                at="/api/v1/webhooks/endpoints/5/enable/",
                scope="webhooks:write",
                say={404: "No WebhookEndpoint matches the given query."},
            ),
        },
        tags=["webhooks"],
    )
    def post(self, request, pk: int):
        return super().post(request, pk)


def _deliveries(key):
    from orders.models import WebhookAttempt, WebhookDelivery

    return (
        WebhookDelivery.objects.filter(endpoint__in=_endpoints(key))
        .select_related("order")
        .prefetch_related(Prefetch("log", queryset=WebhookAttempt.objects.order_by("at", "id")))
    )


class WebhookDeliveriesView(KeyView):
    required_scopes = (ApiScope.WEBHOOKS_WRITE,)
    pagination_class = NewestFirst

    @extend_schema(
        operation_id="webhooks_deliveries_list",
        summary="Deliveries to this owner's endpoints, each with every attempt",
        parameters=[
            OpenApiParameter("status", str, enum=["pending", "sending", "succeeded", "failed"]),
            OpenApiParameter("order", str, description="An order id (MR-…)."),
        ],
        responses={
            **ex.ok(200, s.WebhookDeliveryOut(many=True), "A delivered event", ex.WEBHOOK_DELIVERY),
            **ex.problems(at="/api/v1/webhooks/deliveries/", scope="webhooks:write"),
        },
        tags=["webhooks"],
    )
    def get(self, request):
        qs = _deliveries(request.auth)
        if request.query_params.get("status"):
            qs = qs.filter(status=request.query_params["status"])
        if request.query_params.get("order"):
            qs = qs.filter(order__number=request.query_params["order"])
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(s.WebhookDeliveryOut(page, many=True).data)


class WebhookRedeliverView(KeyView):
    required_scopes = (ApiScope.WEBHOOKS_WRITE,)

    @extend_schema(
        operation_id="webhooks_deliveries_redeliver",
        summary="Send a delivery again now (same webhook-id)",
        request=None,
        responses={
            **ex.ok(
                202,
                s.WebhookDeliveryOut,
                "Queued again",
                {
                    **ex.WEBHOOK_DELIVERY,
                    "status": "pending",
                    "next_attempt_at": "2026-11-25T20:00:00Z",
                },
            ),
            **ex.problems(
                404,
                at="/api/v1/webhooks/deliveries/88/redeliver/",
                scope="webhooks:write",
                say={404: "No WebhookDelivery matches the given query."},
            ),
        },
        tags=["webhooks"],
    )
    def post(self, request, pk: int):
        from orders.webhooks import webhook_redeliver

        delivery = get_object_or_404(_deliveries(request.auth), pk=pk)
        webhook_redeliver(delivery=delivery, actor=actor_for(request.auth))
        return Response(
            s.WebhookDeliveryOut(_deliveries(request.auth).get(pk=pk)).data,
            status=status.HTTP_202_ACCEPTED,
        )


@extend_schema(exclude=True)
class NoSuchEndpoint(APIView):
    """Unknown paths under /api/v1/ answer with a problem body too, not an HTML page."""

    authentication_classes: list = []
    permission_classes: list = []

    def handle(self, request, *args, **kwargs):
        from rest_framework.exceptions import NotFound

        raise NotFound("No such API endpoint.")

    get = post = put = patch = delete = handle
