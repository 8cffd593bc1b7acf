from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db.models import Q

from drivers.models import Driver
from orders.forms import phone_validator
from retailers.images import check_image
from retailers.models import Mall

DECLINE_REASONS = [
    ("Too far", "Too far"),
    ("Pay too low", "Pay too low"),
    ("Not enough room", "Not enough room in my vehicle"),
    ("Taking a break", "Taking a break"),
    ("Other", "Other"),
]

FAIL_REASONS = [
    ("No answer after waiting", "No answer after waiting"),
    ("Wrong or unsafe address", "Wrong or unsafe address"),
    ("Refused by the customer", "Refused by the customer"),
    ("PIN not given", "PIN not given"),
]

CUSTOMER_MESSAGES = [
    ("arriving", "I'm on my way and will arrive in about 5 minutes."),
    ("outside", "I'm outside with your order."),
    ("cant_find", "I can't find the entrance. Could you meet me outside?"),
]


class ApplyForm(forms.Form):
    first_name = forms.CharField(label="First name", max_length=150)
    last_name = forms.CharField(label="Last name", max_length=150)
    email = forms.EmailField(label="Email")
    phone = forms.CharField(label="Mobile phone", max_length=32, validators=[phone_validator])
    password = forms.CharField(
        label="Password", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    vehicle_type = forms.ChoiceField(label="Vehicle", choices=Driver.Vehicle.choices)
    capacity_bags = forms.IntegerField(
        label="How many shopping bags fit (trunk and back seat)", min_value=1, max_value=60
    )
    plate = forms.CharField(label="Licence plate", max_length=16, required=False)
    home_mall = forms.ModelChoiceField(
        label="Mall you want to drive from",
        queryset=Mall.objects.filter(is_active=True, is_sandbox=False),
    )
    licence_photo = forms.ImageField(label="Photo of your driving licence")
    consent = forms.BooleanField(
        label="I agree to the driver terms and to a background check",
        error_messages={"required": "You must agree to apply."},
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        if user is not None and user.is_authenticated:
            # Signed-in people apply with the account they have.
            for name in ("first_name", "last_name", "email", "password"):
                del self.fields[name]

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        users = get_user_model().objects
        if users.filter(Q(username__iexact=email) | Q(email__iexact=email)).exists():
            raise ValidationError("An account with this email exists. Log in, then apply.")
        return email

    def clean_password(self):
        password = self.cleaned_data["password"]
        validate_password(password)
        return password

    def clean_licence_photo(self):
        return check_image(self.cleaned_data["licence_photo"])

    def clean(self):
        data = super().clean()
        if data.get("vehicle_type") in ("car", "suv", "van") and not data.get("plate"):
            self.add_error("plate", "Cars, SUVs and vans need their plate.")
        return data


class OnlineForm(forms.Form):
    mall = forms.ModelChoiceField(
        label="Mall", queryset=Mall.objects.filter(is_active=True, is_sandbox=False)
    )
    latitude = forms.FloatField(required=False, widget=forms.HiddenInput)
    longitude = forms.FloatField(required=False, widget=forms.HiddenInput)


class LocationForm(forms.Form):
    latitude = forms.FloatField(min_value=-90, max_value=90)
    longitude = forms.FloatField(min_value=-180, max_value=180)


class DeclineForm(forms.Form):
    reason = forms.ChoiceField(label="Why not?", choices=DECLINE_REASONS)


class DeliverForm(forms.Form):
    pin = forms.CharField(
        label="Customer's 4-digit PIN",
        min_length=4,
        max_length=4,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    photo = forms.ImageField(
        label="Photo of the delivery",
        widget=forms.ClearableFileInput(attrs={"accept": "image/*", "capture": "environment"}),
    )
    latitude = forms.FloatField(required=False, widget=forms.HiddenInput)
    longitude = forms.FloatField(required=False, widget=forms.HiddenInput)

    def clean_pin(self):
        pin = self.cleaned_data["pin"].strip()
        if not pin.isdigit():
            raise ValidationError("The PIN is 4 digits.")
        return pin

    def clean_photo(self):
        return check_image(self.cleaned_data["photo"])


class FailForm(forms.Form):
    reason = forms.ChoiceField(label="What happened?", choices=FAIL_REASONS)
    photo = forms.ImageField(
        label="Photo of the door or place",
        widget=forms.ClearableFileInput(attrs={"accept": "image/*", "capture": "environment"}),
    )

    def __init__(self, *args, **kwargs):
        # Shown on the stop page next to DeliverForm: its inputs need ids of their own.
        kwargs.setdefault("auto_id", "id_fail_%s")
        super().__init__(*args, **kwargs)

    def clean_photo(self):
        return check_image(self.cleaned_data["photo"])


class MessageForm(forms.Form):
    message = forms.ChoiceField(label="Text the customer", choices=CUSTOMER_MESSAGES)
