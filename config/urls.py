from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from config import private_media, views
from config.forms import AdminLoginForm

admin.site.login_form = AdminLoginForm

urlpatterns = [
    path("", include("orders.shop_urls")),
    path("home/", views.home, name="home"),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Staff added by email (and anyone who forgot) set their password through a mailed link.
    path(
        "accounts/password-reset/",
        views.PasswordResetView.as_view(),
        name="password_reset",
    ),
    path(
        "accounts/password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("admin/", admin.site.urls),
    path("orders/", include("orders.urls")),
    path("store/", include("retailers.urls")),
    path("driver/", include("drivers.urls")),
    path("ops/", include("orders.ops.urls")),
    path("api/v1/", include("orders.api.urls")),
    path("private-media/<path:path>", private_media.serve, name="private_media"),
    path("health/", views.health, name="health"),
    path("health/web/", views.health_web, name="health_web"),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
