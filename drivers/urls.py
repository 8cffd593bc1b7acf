from django.urls import path

from drivers import views

app_name = "driver"
urlpatterns = [
    path("", views.home, name="home"),
    path("apply/", views.apply, name="apply"),
    path("online/", views.go_online, name="online"),
    path("offline/", views.go_offline, name="offline"),
    path("location/", views.location, name="location"),
    path("offers/<int:pk>/", views.offer, name="offer"),
    path("offers/<int:pk>/<str:answer>/", views.offer_answer, name="offer_answer"),
    path("route/", views.route, name="route"),
    path("routes/<int:pk>/", views.route, name="route_detail"),
    path("routes/<int:pk>/arrive/", views.route_arrive, name="route_arrive"),
    path("stops/<int:pk>/", views.stop, name="stop"),
    path("stops/<int:pk>/deliver/", views.stop_deliver, name="stop_deliver"),
    path("stops/<int:pk>/fail/", views.stop_fail, name="stop_fail"),
    path("stops/<int:pk>/message/", views.stop_message, name="stop_message"),
    path("blocks/", views.blocks, name="blocks"),
    path("blocks/<int:pk>/book/", views.block_book_view, name="block_book"),
    path("bookings/<int:pk>/forfeit/", views.block_forfeit_view, name="block_forfeit"),
    path("earnings/", views.earnings, name="earnings"),
    path("earnings/<str:week>.csv", views.statement, name="statement"),
]
