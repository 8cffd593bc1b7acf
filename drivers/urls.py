from django.urls import path

from drivers import views

app_name = "driver"
urlpatterns = [
    path("", views.home, name="home"),
]
