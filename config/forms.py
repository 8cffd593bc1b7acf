from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from config import login_throttle


class LockoutCheckMixin:
    """Say plainly that the account is locked, instead of "wrong password" while it is."""

    locked = False

    def clean(self):
        username = self.cleaned_data.get("username")
        seconds = login_throttle.locked_for(self.request, username)
        if seconds:
            self.locked = True
            raise ValidationError(login_throttle.lockout_message(seconds), code="locked")
        try:
            return super().clean()
        except ValidationError:
            # This failure may have just set the lock: say so now rather than next time.
            seconds = login_throttle.locked_for(self.request, username)
            if seconds:
                self.locked = True
                raise ValidationError(
                    login_throttle.lockout_message(seconds), code="locked"
                ) from None
            raise


class LoginForm(LockoutCheckMixin, AuthenticationForm):
    pass


class AdminLoginForm(LockoutCheckMixin, AdminAuthenticationForm):
    pass
