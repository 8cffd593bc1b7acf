import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordResetForm
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.views.decorators.cache import never_cache

from config import login_throttle
from config.forms import LoginForm
from orders import permissions
from orders.cart import cart_merge_on_login

logger = logging.getLogger(__name__)


class SetPasswordResetForm(PasswordResetForm):
    """Also mails people who never had a password: store staff a manager added by email."""

    def get_users(self, email):
        UserModel = get_user_model()
        return UserModel._default_manager.filter(email__iexact=email, is_active=True)


class PasswordResetView(auth_views.PasswordResetView):
    form_class = SetPasswordResetForm


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """A new password set through the mailed link also lifts a sign-in lock on the account."""

    def form_valid(self, form):
        response = super().form_valid(form)
        login_throttle.lift(form.user.get_username())
        return response


class LoginView(auth_views.LoginView):
    """Log in, and fold the visit's cart into the person's own."""

    template_name = "registration/login.html"
    form_class = LoginForm

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.locked:
            response.status_code = 429
        return response

    def form_valid(self, form):
        response = super().form_valid(form)
        cart_merge_on_login(self.request, form.get_user())
        return response


@login_required
def home(request):
    """After login every party lands on its own home."""
    return redirect(permissions.home_url_for(request.user))


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except DatabaseError:
        logger.exception("health: the database did not answer")
        return False


@never_cache
def health_web(request):
    """For the load balancer: this web process and its database. A stopped task worker must
    not take the web processes out of rotation, so the queue is not checked here."""
    ok = _database_ok()
    return JsonResponse(
        {"status": "ok" if ok else "error", "database": "ok" if ok else "error"},
        status=200 if ok else 503,
    )


@never_cache
def health(request):
    """For monitoring: the database and the task queue (broker reachable, a worker cluster
    alive, nothing waiting too long). 503 with the reason when any of them is wrong."""
    database_ok = _database_ok()
    queue = task_queue_health() if database_ok else {"status": "error", "reason": "no database"}
    ok = database_ok and queue["status"] == "ok"
    return JsonResponse(
        {
            "status": "ok" if ok else "error",
            "database": "ok" if database_ok else "error",
            "task_queue": queue,
        },
        status=200 if ok else 503,
    )


def task_queue_health() -> dict:
    from django_q.brokers import get_broker
    from django_q.conf import Conf
    from django_q.models import OrmQ
    from django_q.status import Stat

    if Conf.SYNC:
        return {"status": "ok", "mode": "sync"}
    try:
        broker = get_broker()
        broker.ping()
        queued = broker.queue_size()
        clusters = len(Stat.get_all(broker=broker))
    except Exception as exc:  # a broker that is down raises its own kind of error
        logger.exception("health: the task broker did not answer")
        return {"status": "error", "reason": f"broker: {type(exc).__name__}"}
    result = {"status": "ok", "broker": broker.info(), "queued": queued, "clusters": clusters}
    if Conf.ORM:
        oldest = (
            OrmQ.objects.using(Conf.ORM)
            .filter(key=broker.list_key, lock__lte=timezone.now())
            .order_by("lock")
            .values_list("lock", flat=True)
            .first()
        )
        waited = (timezone.now() - oldest).total_seconds() if oldest else 0
        result["oldest_queued_seconds"] = round(waited)
        if waited > settings.MALLRUN_HEALTH_MAX_QUEUE_SECONDS:
            result.update(status="error", reason="tasks are waiting too long")
    if clusters == 0:
        result.update(status="error", reason="no task cluster is running")
    return result
