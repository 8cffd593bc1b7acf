from django.urls import path

from orders import views

app_name = "shop"
urlpatterns = [
    path("", views.home, name="home"),
    path("shop/", views.availability, name="availability"),
    path("shop/p/<int:pk>/", views.product, name="product"),
    path("cart/", views.cart, name="cart"),
    path("cart/add/", views.cart_add_view, name="cart_add"),
    path("cart/lines/<int:line_id>/", views.cart_update, name="cart_update"),
    path("checkout/", views.checkout, name="checkout"),
    path("track/<uuid:group>/", views.track, name="track"),
    path("track/cancel/<str:number>/", views.cancel, name="cancel"),
    path("track/proof/<str:number>/", views.proof_photo, name="proof"),
    path("accounts/signup/", views.signup, name="signup"),
]
