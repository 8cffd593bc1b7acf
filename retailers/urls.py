from django.urls import path

from retailers import views

app_name = "store"
urlpatterns = [
    path("", views.home, name="home"),
]
