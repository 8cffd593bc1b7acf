from django.urls import path

from orders.ops import views

app_name = "ops"

urlpatterns = [
    path("", views.home, name="home"),
    path("m/<slug:slug>/", views.board, name="board"),
    path("m/<slug:slug>/metrics/", views.metrics, name="metrics"),
    path("m/<slug:slug>/redispatch/", views.redispatch, name="redispatch"),
    path("orders/<str:number>/cancel/", views.order_cancel, name="order_cancel"),
    path("routes/<int:pk>/reassign/", views.route_reassign, name="route_reassign"),
    path("routes/<int:pk>/boost/", views.route_boost, name="route_boost"),
    path("stores/<int:pk>/pause/", views.store_pause, name="store_pause"),
    path("stores/<int:pk>/resume/", views.store_resume, name="store_resume"),
    path("drivers/", views.drivers, name="drivers"),
    path("drivers/<int:pk>/review/", views.driver_review, name="driver_review"),
    path("audit/", views.audit, name="audit"),
]
