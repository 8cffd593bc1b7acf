from django.urls import path

from orders import views

app_name = "orders"
urlpatterns = [
    path("", views.mine, name="mine"),
    path("<str:number>/", views.detail, name="detail"),
]
