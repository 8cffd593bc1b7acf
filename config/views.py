from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordResetForm
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache

from orders import permissions
from orders.cart import cart_merge_on_login


class SetPasswordResetForm(PasswordResetForm):
    """Also mails people who never had a password: store staff a manager added by email."""

    def get_users(self, email):
        UserModel = get_user_model()
        return UserModel._default_manager.filter(email__iexact=email, is_active=True)


class PasswordResetView(auth_views.PasswordResetView):
    form_class = SetPasswordResetForm


class LoginView(auth_views.LoginView):
    """Log in, and fold the visit's cart into the person's own."""

    template_name = "registration/login.html"

    def form_valid(self, form):
        response = super().form_valid(form)
        cart_merge_on_login(self.request, form.get_user())
        return response


@login_required
def home(request):
    """After login every party lands on its own home."""
    return redirect(permissions.home_url_for(request.user))


@never_cache
def health(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok", "database": "ok"})
