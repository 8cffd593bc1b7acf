"""API v1: thin DRF views. Each parses input, finds the row within the caller's reach
(anything else is a 404) and calls the same service the portals call."""

from __future__ import annotations

import csv
import io

from django.db import IntegrityError, transaction
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.authentication import SessionAuthentication
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from orders import services
from orders.api import serializers as s
from orders.api.auth import (
    ApiKeyAuthentication,
    HasScope,
    IsDriver,
    actor_for,
    managed_stores_for,
    orders_for,
    stores_for,
)
from orders.api.errors import PROBLEM_CONTENT_TYPE, TITLES, Conflict, Unprocessable
from orders.api.idempotency import idempotent
from orders.api.pagination import NewestFirst, OldestFirst
from orders.models import Address, ApiScope, Order, OrderEvent, OrderLine, Quote
from orders.permissions import Actor, driver_of
from orders.promise import Promise as PlacementPromise
from orders.quotes import promises_for_stores, quote_compute, quote_create, quote_is_live
from orders.selectors import available_stock, serving_malls
from retailers.geocoding import geocode
from retailers.models import Product

PROBLEM = s.Problem


def problems(*codes: int) -> dict:
    described = {
        400: "Invalid request (field errors listed)",
        401: "Missing, unknown or revoked API key",
        403: "The key lacks the scope",
        404: "Not found, or not within this key's reach",
        409: "Conflict: wrong state, or the same Idempotency-Key is still in flight",
        422: "Refused by a business rule, or Idempotency-Key reused with another body",
        429: "Too many requests; see Retry-After",
    }
    return {
        (code, PROBLEM_CONTENT_TYPE): OpenApiResponse(
            PROBLEM,
            description=described[code],
            examples=[
                OpenApiExample(
                    f"{code}",
                    value={
                        "type": f"https://mallrun.dev/problems/{PROBLEM_TYPES[code]}",
                        "title": TITLES[code],
                        "status": code,
                        "detail": described[code] + ".",
                        "instance": "/api/v1/…",
                        **(
                            {"errors": [{"field": "items.0.quantity", "message": "…"}]}
                            if code in (400, 422)
                            else {}
                        ),
                        **({"retry_after": 12} if code == 429 else {}),
                    },
                )
            ],
        )
        for code in (401, 403, 429, *codes)
    }


PROBLEM_TYPES = {
    400: "validation",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    409: "invalid_transition",
    422: "refused",
    429: "throttled",
}


IDEMPOTENCY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="Retry-safe key (≤ 255 chars), kept 24 h: the same key and body replay the "
    "first response; another body gives 422; a concurrent request gives 409.",
)

VALIDATION_EXAMPLE = OpenApiExample(
    "Field errors",
    response_only=True,
    status_codes=["400"],
    value={
        "type": "https://mallrun.dev/problems/validation",
        "title": "Invalid request",
        "status": 400,
        "detail": "Some fields are invalid: address.zip_code: This value does not match.",
        "instance": "/api/v1/orders/",
        "errors": [{"field": "address.zip_code", "message": "This value does not match."}],
    },
)


ORDER_VALUE = {
    "id": "MR-C4X7QPA",
    "external_id": "mkt-10042",
    "status": "accepted",
    "status_reason": "",
    "store": {"id": 3, "slug": "sephora-fashion-show", "name": "Sephora", "mall": "Fashion Show"},
    "lines": [
        {
            "id": 11,
            "product_id": 7,
            "sku": "LG-1",
            "title": "Lip Gloss",
            "quantity": 2,
            "unit_price_cents": 1800,
        }
    ],
    "subtotal_cents": 3600,
    "fee_cents": 599,
    "tip_cents": 0,
    "total_cents": 4199,
    "bags": 1,
    "placed_at": "2026-11-25T19:00:00Z",
    "eta": "2026-11-25T19:55:00Z",
    "ready_by": "2026-11-25T19:15:00Z",
    "ready_at": None,
    "picked_up_at": None,
    "delivered_at": None,
    "tracking_url": "https://mallrun.example/track/6f1c1f7e-8a51-4a4e-9d7e-0c6f3f8b9a10/",
    "test_mode": False,
    "events": [
        {
            "sequence": 1,
            "from_status": "",
            "to_status": "placed",
            "note": "",
            "actor": "API key mr_live_abcd…",
            "created_at": "2026-11-25T19:00:00Z",
        },
        {
            "sequence": 2,
            "from_status": "placed",
            "to_status": "accepted",
            "note": "Ready in about 15 min",
            "actor": "store1",
            "created_at": "2026-11-25T19:01:00Z",
        },
    ],
    "proof_of_delivery": None,
}
ORDER_200 = OpenApiExample("An order", response_only=True, status_codes=["200"], value=ORDER_VALUE)
ORDER_201 = OpenApiExample("Placed", response_only=True, status_codes=["201"], value=ORDER_VALUE)
QUOTE_201 = OpenApiExample(
    "Eligible quote",
    response_only=True,
    status_codes=["201"],
    value={
        "id": "6f1c1f7e-8a51-4a4e-9d7e-0c6f3f8b9a10",
        "store": {
            "id": 3,
            "slug": "sephora-fashion-show",
            "name": "Sephora",
            "mall": "Fashion Show",
        },
        "eligible": True,
        "reasons": [],
        "fee_cents": 599,
        "distance_km": 2.4,
        "ready_by": "2026-11-25T19:15:00Z",
        "promised_by": "2026-11-25T19:55:00Z",
        "items": [[7, 2]],
        "created_at": "2026-11-25T19:00:00Z",
        "expires_at": "2026-11-25T19:15:00Z",
    },
)


class KeyView(APIView):
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasScope]
    required_scopes: tuple | dict = ()


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
        responses={200: s.AvailabilityOut(many=True), **problems(400, 422)},
        tags=["availability"],
    )
    def get(self, request):
        query = s.AvailabilityQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        latitude, longitude = _point(data)
        malls = serving_malls(latitude, longitude)
        qs = available_stock(
            malls=malls,
            q=data.get("q", ""),
            store_slug=data.get("store", ""),
            category=data.get("category", ""),
        )
        key = request.auth
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
        responses={201: s.QuoteOut, **problems(400, 404, 409, 422)},
        examples=[
            OpenApiExample(
                "Two items by SKU to a ZIP",
                request_only=True,
                value={
                    "store_id": 1,
                    "zip_code": "89109",
                    "items": [{"sku": "SKU-1", "quantity": 2}],
                },
            ),
            QUOTE_201,
            VALIDATION_EXAMPLE,
        ],
        tags=["quotes"],
    )
    @idempotent
    def post(self, request):
        data = s.QuoteIn(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        store = get_object_or_404(stores_for(request.auth), pk=v["store_id"])
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
        responses={200: s.OrderOut(many=True), **problems()},
        examples=[ORDER_200],
        tags=["orders"],
    )
    def get(self, request):
        qs = _order_queryset(request.auth)
        if request.query_params.get("status"):
            qs = qs.filter(status=request.query_params["status"])
        if request.query_params.get("external_id"):
            qs = qs.filter(external_ref=request.query_params["external_id"])
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(qs, request, view=self)
        return paginator.get_paginated_response(s.OrderOut(page, many=True).data)

    @extend_schema(
        operation_id="orders_create",
        summary="Place an order from a quote, or from a store's items and an address",
        request=s.OrderIn,
        parameters=[IDEMPOTENCY],
        responses={201: s.OrderOut, **problems(400, 404, 409, 422)},
        examples=[
            OpenApiExample(
                "From a quote",
                request_only=True,
                value={
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
            VALIDATION_EXAMPLE,
            ORDER_201,
            OpenApiExample(
                "Out of stock",
                response_only=True,
                status_codes=["422"],
                value={
                    "type": "https://mallrun.dev/problems/checkout_refused",
                    "title": "Unprocessable request",
                    "status": 422,
                    "detail": "Only 1 of Lip Gloss left at Sephora Fashion Show.",
                    "instance": "/api/v1/orders/",
                    "errors": [
                        {"field": "items.0", "line": 0, "message": "Only 1 of Lip Gloss left."}
                    ],
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
            store = get_object_or_404(stores_for(key), pk=v["store_id"])
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
                )
                if key.test_mode:
                    Order.objects.filter(pk=order.pk).update(test_mode=True)
        except IntegrityError:
            raise Conflict(
                f"An order with external_id {v['external_id']} already exists.",
                code="external_id_taken",
            ) from None
        order = _order_queryset(key).get(pk=order.pk)
        return Response(s.OrderOut(order).data, status=status.HTTP_201_CREATED)


class OrderDetailView(KeyView):
    required_scopes = (ApiScope.ORDERS_READ,)

    @extend_schema(
        operation_id="orders_retrieve",
        summary="One order: status, events, ETA, tracking URL, proof of delivery",
        responses={200: s.OrderOut, **problems(404)},
        examples=[ORDER_200],
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
        responses={200: s.OrderOut, **problems(400, 404, 409, 422)},
        examples=[ORDER_200],
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
        responses={200: s.InventoryOut, **problems(400, 404, 422)},
        examples=[
            OpenApiExample(
                "Two rows",
                request_only=True,
                value={
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
            ),
            OpenApiExample(
                "A bad row: nothing written",
                response_only=True,
                status_codes=["422"],
                value={
                    "type": "https://mallrun.dev/problems/inventory_rows_invalid",
                    "title": "Unprocessable request",
                    "status": 422,
                    "detail": "1 row(s) have errors; nothing was written.",
                    "instance": "/api/v1/stores/3/inventory/",
                    "errors": [
                        {"field": "items.1", "row": 1, "sku": "MS-2", "message": "Title is empty."}
                    ],
                },
            ),
        ],
        tags=["stores"],
    )
    def put(self, request, store_id: int):
        from retailers.services import ImportPlan, catalog_import_apply, catalog_import_parse

        store = get_object_or_404(managed_stores_for(request.auth), pk=store_id)
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
        responses={200: s.OrderOut(many=True), **problems(404)},
        examples=[ORDER_200],
        tags=["stores"],
    )
    def get(self, request, store_id: int):
        store = get_object_or_404(managed_stores_for(request.auth), pk=store_id)
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
    store = get_object_or_404(managed_stores_for(request.auth), pk=store_id)
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


def store_action_view(name: str, summary: str):
    serializer_class = ACTIONS[name][0]

    @extend_schema(
        operation_id=f"stores_orders_{name.replace('-', '_')}",
        summary=summary,
        request=serializer_class,
        responses={200: s.OrderOut, **problems(400, 404, 409, 422)},
        examples=[ORDER_200],
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
        responses={200: s.OrderOut, **problems(400, 404, 409, 422)},
        examples=[ORDER_200],
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
        responses={200: s.OrderOut, **problems(400, 404, 409, 422)},
        examples=[ORDER_200],
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


# --- Driver (signed-in session) -------------------------------------------------------


class DriverView(APIView):
    authentication_classes = [SessionAuthentication]
    permission_classes = [IsDriver]

    def driver(self):
        return driver_of(self.request.user)

    def actor(self) -> Actor:
        return Actor.driver(self.request.user)


class DriverOffersView(DriverView):
    @extend_schema(
        operation_id="driver_offers_list",
        summary="The signed-in driver's open offers",
        responses={200: s.OfferOut(many=True), **problems()},
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


class DriverOfferAcceptView(DriverOfferAnswerView):
    answer = "accept"

    @extend_schema(
        operation_id="driver_offers_accept",
        request=None,
        responses={200: s.OfferOut, **problems(404, 409, 422)},
        tags=["driver"],
    )
    def post(self, request, pk: int):
        return super().post(request, pk)


class DriverOfferDeclineView(DriverOfferAnswerView):
    answer = "decline"

    @extend_schema(
        operation_id="driver_offers_decline",
        request=s.DeclineIn,
        responses={200: s.OfferOut, **problems(400, 404, 409, 422)},
        tags=["driver"],
    )
    def post(self, request, pk: int):
        return super().post(request, pk)


class DriverRoutesView(DriverView):
    @extend_schema(
        operation_id="driver_routes_list",
        summary="The driver's current route (empty list when none)",
        responses={200: s.RouteOut(many=True), **problems()},
        tags=["driver"],
    )
    def get(self, request):
        from drivers import selectors

        route = selectors.current_route(self.driver())
        return Response(s.RouteOut([route] if route else [], many=True).data)


class DriverRouteDetailView(DriverView):
    @extend_schema(
        operation_id="driver_routes_retrieve",
        responses={200: s.RouteOut, **problems(404)},
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
        responses={200: s.RouteOut, **problems(404, 409, 422)},
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


class DriverStopDeliverView(DriverView):
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(
        operation_id="driver_stops_deliver",
        summary="Hand over at the door with proof: the shopper's PIN and/or a photo",
        request={"multipart/form-data": s.DeliverIn, "application/json": s.DeliverIn},
        responses={200: s.StopOut, **problems(400, 404, 409, 422)},
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
        responses={200: s.StopOut, **problems(400, 404, 409, 422)},
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
    from orders.models import WebhookEndpoint

    if key.retailer_id:
        return WebhookEndpoint.objects.filter(retailer_id=key.retailer_id)
    return WebhookEndpoint.objects.filter(partner=key.partner)


class WebhookEndpointsView(KeyView):
    required_scopes = (ApiScope.WEBHOOKS_WRITE,)
    pagination_class = NewestFirst

    @extend_schema(
        operation_id="webhooks_endpoints_list",
        responses={200: s.WebhookEndpointOut(many=True), **problems()},
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
        responses={201: s.WebhookEndpointCreated, **problems(400, 409, 422)},
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
        elif self.action_name == "enable":
            w.webhook_endpoint_enable(endpoint=endpoint)
            endpoint.refresh_from_db()
        return Response(s.WebhookEndpointCreated(endpoint).data)


class WebhookEndpointTestView(WebhookEndpointActionView):
    action_name = "test"

    @extend_schema(
        operation_id="webhooks_endpoints_test",
        summary="Send a signed webhook.test event now",
        request=None,
        responses={202: s.WebhookDeliveryOut, **problems(404)},
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
        responses={200: s.WebhookEndpointCreated, **problems(404)},
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
        responses={200: s.WebhookEndpointCreated, **problems(404)},
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
        responses={200: s.WebhookDeliveryOut(many=True), **problems()},
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
        responses={202: s.WebhookDeliveryOut, **problems(404)},
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
