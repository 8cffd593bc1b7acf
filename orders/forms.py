"""Forms validate what people type; services decide what happens."""

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import UserCreationForm
from django.core.validators import RegexValidator

from orders.models import Address, Shopper
from orders.payments import Card, card_problem
from retailers import clock

phone_validator = RegexValidator(
    r"^\+?[0-9 ()-]{7,20}$", "Enter a phone number, e.g. +1 702 555 0100."
)


class LocationForm(forms.Form):
    where = forms.CharField(
        label="Delivery ZIP code",
        max_length=120,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "postal-code"}),
    )
    latitude = forms.FloatField(
        required=False, widget=forms.HiddenInput, min_value=-90, max_value=90
    )
    longitude = forms.FloatField(
        required=False, widget=forms.HiddenInput, min_value=-180, max_value=180
    )

    def clean(self):
        data = super().clean()
        has_coords = data.get("latitude") is not None and data.get("longitude") is not None
        if not has_coords and not (data.get("where") or "").strip():
            self.add_error("where", "Enter a ZIP code, or use your location.")
        return data


class AddToCartForm(forms.Form):
    stock = forms.IntegerField(widget=forms.HiddenInput)
    quantity = forms.IntegerField(label="Quantity", min_value=1, max_value=20, initial=1)


class CartQuantityForm(forms.Form):
    quantity = forms.IntegerField(label="Quantity", min_value=0, max_value=20)


class SignupForm(UserCreationForm):
    first_name = forms.CharField(label="First name", max_length=150)
    last_name = forms.CharField(label="Last name", max_length=150, required=False)
    email = forms.EmailField(label="Email")
    phone = forms.CharField(label="Mobile phone", max_length=32, validators=[phone_validator])

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "first_name", "last_name", "email")

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        if get_user_model().objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("An account with this email exists. Log in instead.")
        return email


TIP_CHOICES = [("0", "No tip"), ("10", "10%"), ("15", "15%"), ("20", "20%")]


class CheckoutForm(forms.Form):
    """Where, who and how to pay. A new address is geocoded by its ZIP code (or by the
    browser's coordinates when the shopper shared them)."""

    address = forms.ChoiceField(label="Deliver to", widget=forms.RadioSelect, required=False)
    line1 = forms.CharField(label="Street address", max_length=200, required=False)
    line2 = forms.CharField(label="Apartment, suite (optional)", max_length=100, required=False)
    city = forms.CharField(label="City", max_length=100, required=False)
    state = forms.CharField(label="State", max_length=2, required=False)
    zip_code = forms.CharField(label="ZIP code", max_length=10, required=False)
    instructions = forms.CharField(
        label="Drop-off instructions (optional)",
        max_length=300,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "Gate code, leave with the concierge…"}),
    )
    phone = forms.CharField(label="Mobile phone", max_length=32, validators=[phone_validator])
    notify_by = forms.ChoiceField(
        label="Send updates by", choices=Shopper.Notify.choices, widget=forms.RadioSelect
    )
    tip = forms.ChoiceField(label="Tip for your driver", choices=TIP_CHOICES, initial="15")
    card_number = forms.CharField(
        label="Card number",
        max_length=23,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "cc-number"}),
    )
    card_expiry = forms.CharField(
        label="Expiry (MM/YY)",
        max_length=7,
        widget=forms.TextInput(attrs={"autocomplete": "cc-exp", "placeholder": "MM/YY"}),
    )
    card_cvc = forms.CharField(
        label="Security code",
        max_length=4,
        # Never echoed back into the page, even when the form is shown again.
        widget=forms.PasswordInput(
            render_value=False, attrs={"inputmode": "numeric", "autocomplete": "cc-csc"}
        ),
    )
    token = forms.CharField(widget=forms.HiddenInput)
    confirm_changes = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, addresses=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.addresses = {str(a.pk): a for a in addresses}
        choices = [(pk, a.one_line) for pk, a in self.addresses.items()]
        self.fields["address"].choices = [*choices, ("new", "A new address")]
        if not self.addresses:
            self.fields["address"].widget = forms.HiddenInput()
            self.fields["address"].initial = "new"

    def clean_card_number(self):
        return "".join(ch for ch in self.cleaned_data["card_number"] if ch.isdigit())

    def clean_state(self):
        return self.cleaned_data["state"].strip().upper()

    def clean(self):
        data = super().clean()
        choice = data.get("address") or "new"
        if choice == "new":
            for name in ("line1", "city", "state", "zip_code"):
                if not data.get(name):
                    self.add_error(name, "Needed for a new address.")
        elif choice not in self.addresses:
            self.add_error("address", "Choose one of your addresses.")
        expiry = (data.get("card_expiry") or "").replace(" ", "")
        try:
            month, year = expiry.split("/")
            month, year = int(month), int(year)
            year = year + 2000 if year < 100 else year
        except ValueError:
            self.add_error("card_expiry", "Use MM/YY, e.g. 08/29.")
            return data
        if data.get("card_number") and data.get("card_cvc"):
            card = Card(data["card_number"], month, year, data["card_cvc"])
            problem = card_problem(card, clock.now().date())
            if problem:
                field = "card_expiry" if "expir" in problem else "card_number"
                field = "card_cvc" if "security code" in problem else field
                self.add_error(field, problem)
            else:
                data["card"] = card
        return data

    def chosen_address(self) -> Address | None:
        return self.addresses.get(self.cleaned_data.get("address") or "")


CANCEL_REASONS = [
    ("Changed my mind", "Changed my mind"),
    ("Ordered by mistake", "Ordered by mistake"),
    ("It takes too long", "It takes too long"),
    ("Found it elsewhere", "Found it elsewhere"),
]


class CancelForm(forms.Form):
    reason = forms.ChoiceField(label="Why are you cancelling?", choices=CANCEL_REASONS)


def parse_dollars(raw: str) -> int | None:
    """'12.50' → 1250; '' or nonsense → None (the filter is ignored)."""
    try:
        value = round(float(raw) * 100)
    except (TypeError, ValueError):
        return None
    return value if value >= 0 else None
