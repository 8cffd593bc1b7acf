from django.urls import path

from retailers import views

app_name = "store"
urlpatterns = [
    path("", views.home, name="home"),
    path("<slug:slug>/", views.board, name="board"),
    path("<slug:slug>/orders/<str:number>/", views.order_detail, name="order"),
    path("<slug:slug>/orders/<str:number>/pick-list/", views.pick_list, name="pick_list"),
    path("<slug:slug>/orders/<str:number>/accept/", views.order_accept, name="order_accept"),
    path("<slug:slug>/orders/<str:number>/reject/", views.order_reject, name="order_reject"),
    path("<slug:slug>/orders/<str:number>/ready/", views.order_ready, name="order_ready"),
    path("<slug:slug>/orders/<str:number>/hand-over/", views.order_handover, name="order_handover"),
    path("<slug:slug>/orders/<str:number>/return/", views.order_return, name="order_return"),
    path(
        "<slug:slug>/orders/<str:number>/lines/<int:line_id>/pick/",
        views.order_line_pick,
        name="line_pick",
    ),
    path(
        "<slug:slug>/orders/<str:number>/lines/<int:line_id>/unavailable/",
        views.order_line_unavailable,
        name="line_unavailable",
    ),
    path("<slug:slug>/catalog/", views.catalog, name="catalog"),
    path("<slug:slug>/catalog/new/", views.product_new, name="product_new"),
    path("<slug:slug>/catalog/export.csv", views.catalog_export, name="catalog_export"),
    path("<slug:slug>/catalog/import/", views.catalog_import, name="catalog_import"),
    path("<slug:slug>/catalog/<int:pk>/", views.product_edit, name="product"),
    path("<slug:slug>/catalog/<int:pk>/stock/", views.stock_adjust, name="stock_adjust"),
    path("<slug:slug>/settings/", views.settings, name="settings"),
    path("<slug:slug>/settings/pause/", views.pause, name="pause"),
    path("<slug:slug>/settings/resume/", views.resume, name="resume"),
    path("<slug:slug>/settings/closures/", views.closure_add, name="closure_add"),
    path(
        "<slug:slug>/settings/closures/<int:pk>/delete/",
        views.closure_remove,
        name="closure_remove",
    ),
    path("<slug:slug>/staff/", views.staff, name="staff"),
    path("<slug:slug>/staff/add/", views.staff_add, name="staff_add"),
    path("<slug:slug>/staff/<int:pk>/role/", views.staff_change, name="staff_change"),
    path("<slug:slug>/staff/<int:pk>/remove/", views.staff_remove, name="staff_remove"),
    path("<slug:slug>/reports/", views.reports, name="reports"),
    path("<slug:slug>/integrations/", views.integrations, name="integrations"),
    path("<slug:slug>/integrations/keys/", views.key_create, name="key_create"),
    path("<slug:slug>/integrations/keys/<int:pk>/revoke/", views.key_revoke, name="key_revoke"),
    path("<slug:slug>/integrations/webhooks/", views.endpoint_create, name="endpoint_create"),
    path("<slug:slug>/integrations/webhooks/<int:pk>/", views.endpoint_detail, name="endpoint"),
    path(
        "<slug:slug>/integrations/webhooks/<int:pk>/rotate/",
        views.endpoint_rotate,
        name="endpoint_rotate",
    ),
    path(
        "<slug:slug>/integrations/webhooks/<int:pk>/test/",
        views.endpoint_test,
        name="endpoint_test",
    ),
    path(
        "<slug:slug>/integrations/deliveries/<int:pk>/redeliver/",
        views.delivery_redeliver,
        name="delivery_redeliver",
    ),
]
