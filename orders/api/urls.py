from django.urls import path, re_path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from orders.api import views as v

app_name = "api"

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema"), name="redoc"),
    path("availability/", v.AvailabilityView.as_view(), name="availability"),
    path("quotes/", v.QuoteCreateView.as_view(), name="quotes"),
    path("orders/", v.OrdersView.as_view(), name="orders"),
    path("orders/<str:number>/", v.OrderDetailView.as_view(), name="order"),
    path("orders/<str:number>/cancel/", v.OrderCancelView.as_view(), name="order_cancel"),
    path("stores/<int:store_id>/inventory/", v.InventoryView.as_view(), name="inventory"),
    path("stores/<int:store_id>/orders/", v.StoreOrdersView.as_view(), name="store_orders"),
    path(
        "stores/<int:store_id>/orders/<str:number>/accept/",
        v.store_action_view("accept", "Accept with a prep time").as_view(),
        name="store_order_accept",
    ),
    path(
        "stores/<int:store_id>/orders/<str:number>/reject/",
        v.store_action_view("reject", "Reject with a reason").as_view(),
        name="store_order_reject",
    ),
    path(
        "stores/<int:store_id>/orders/<str:number>/ready/",
        v.store_action_view("ready", "Packed and ready for pick-up").as_view(),
        name="store_order_ready",
    ),
    path(
        "stores/<int:store_id>/orders/<str:number>/hand-over/",
        v.store_action_view("hand-over", "Hand over to the driver (their code)").as_view(),
        name="store_order_hand_over",
    ),
    path(
        "stores/<int:store_id>/orders/<str:number>/return/",
        v.store_action_view("return", "Receive a failed delivery back").as_view(),
        name="store_order_return",
    ),
    path(
        "stores/<int:store_id>/orders/<str:number>/lines/<int:line_id>/unavailable/",
        v.StoreOrderLineUnavailableView.as_view(),
        name="store_order_line_unavailable",
    ),
    path(
        "sandbox/orders/<str:number>/advance/",
        v.SandboxAdvanceView.as_view(),
        name="sandbox_advance",
    ),
    path("driver/tokens/", v.DriverTokensView.as_view(), name="driver_tokens"),
    path(
        "driver/tokens/current/",
        v.DriverTokenCurrentView.as_view(),
        name="driver_token_current",
    ),
    path("driver/offers/", v.DriverOffersView.as_view(), name="driver_offers"),
    path(
        "driver/offers/<int:pk>/accept/",
        v.DriverOfferAcceptView.as_view(),
        name="driver_offer_accept",
    ),
    path(
        "driver/offers/<int:pk>/decline/",
        v.DriverOfferDeclineView.as_view(),
        name="driver_offer_decline",
    ),
    path("driver/routes/", v.DriverRoutesView.as_view(), name="driver_routes"),
    path("driver/routes/<int:pk>/", v.DriverRouteDetailView.as_view(), name="driver_route"),
    path(
        "driver/routes/<int:pk>/arrive/",
        v.DriverRouteArriveView.as_view(),
        name="driver_route_arrive",
    ),
    path(
        "driver/stops/<int:pk>/deliver/",
        v.DriverStopDeliverView.as_view(),
        name="driver_stop_deliver",
    ),
    path("driver/stops/<int:pk>/fail/", v.DriverStopFailView.as_view(), name="driver_stop_fail"),
    path("webhooks/endpoints/", v.WebhookEndpointsView.as_view(), name="webhook_endpoints"),
    path(
        "webhooks/endpoints/<int:pk>/test/",
        v.WebhookEndpointTestView.as_view(),
        name="webhook_endpoint_test",
    ),
    path(
        "webhooks/endpoints/<int:pk>/rotate-secret/",
        v.WebhookEndpointRotateView.as_view(),
        name="webhook_endpoint_rotate",
    ),
    path(
        "webhooks/endpoints/<int:pk>/enable/",
        v.WebhookEndpointEnableView.as_view(),
        name="webhook_endpoint_enable",
    ),
    path("webhooks/deliveries/", v.WebhookDeliveriesView.as_view(), name="webhook_deliveries"),
    path(
        "webhooks/deliveries/<int:pk>/redeliver/",
        v.WebhookRedeliverView.as_view(),
        name="webhook_redeliver",
    ),
    re_path(r"^.*$", v.NoSuchEndpoint.as_view(), name="not_found"),
]
