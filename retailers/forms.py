"""Forms of the retailer portal: they parse and check input; services make the changes."""

from __future__ import annotations

from decimal import Decimal

from django import forms

from retailers.images import check_image
from retailers.models import Product, StockAdjustment, StoreHours, StoreMembership

REJECT_REASONS = [
    ("out_of_stock", "Out of stock"),
    ("closing", "Closing soon"),
    ("other", "Other (say why)"),
]


class AcceptForm(forms.Form):
    prep_minutes = forms.IntegerField(
        label="Ready in (minutes)", min_value=1, max_value=240, initial=15
    )


class RejectForm(forms.Form):
    reason = forms.ChoiceField(choices=REJECT_REASONS, widget=forms.RadioSelect)
    note = forms.CharField(label="Note", max_length=250, required=False)

    def clean(self):
        data = super().clean()
        if data.get("reason") == "other" and not data.get("note", "").strip():
            self.add_error("note", "Say why the order is rejected.")
        return data

    def reason_text(self) -> str:
        label = dict(REJECT_REASONS)[self.cleaned_data["reason"]]
        note = self.cleaned_data.get("note", "").strip()
        if self.cleaned_data["reason"] == "other":
            return f"Other: {note}"
        return f"{label}: {note}" if note else label


class UnavailableForm(forms.Form):
    available = forms.IntegerField(label="Found", min_value=0, initial=0)


class ReadyForm(forms.Form):
    bags = forms.IntegerField(label="Bags", min_value=1, max_value=50)


class HandoverForm(forms.Form):
    code = forms.CharField(
        label="Driver's code",
        max_length=6,
        min_length=6,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )


class ProductForm(forms.Form):
    sku = forms.CharField(label="SKU", max_length=64)
    title = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    price = forms.DecimalField(
        label="Price ($)", min_value=Decimal("0"), max_digits=9, decimal_places=2
    )
    category = forms.CharField(max_length=80, help_text="Also the aisle on the pick list.")
    bags = forms.IntegerField(label="Bags per unit", min_value=1, max_value=20, initial=1)
    is_active = forms.BooleanField(label="On sale", required=False, initial=True)
    image = forms.FileField(
        required=False,
        help_text="JPEG, PNG, WebP or GIF, up to 5 MB.",
        widget=forms.ClearableFileInput(attrs={"accept": "image/*"}),
    )

    @classmethod
    def initial_for(cls, product: Product) -> dict:
        return {
            "sku": product.sku,
            "title": product.title,
            "description": product.description,
            "price": Decimal(product.price_cents) / 100,
            "category": product.category,
            "bags": product.bags,
            "is_active": product.is_active,
        }

    def clean_image(self):
        return check_image(self.cleaned_data.get("image")) or None

    def values(self) -> dict:
        d = self.cleaned_data
        return {
            "sku": d["sku"].strip(),
            "title": d["title"].strip(),
            "description": d["description"],
            "price_cents": int(d["price"] * 100),
            "category": d["category"].strip(),
            "bags": d["bags"],
            "is_active": d["is_active"],
            "image": d.get("image"),
        }


class StockAdjustForm(forms.Form):
    delta = forms.IntegerField(
        label="Change (units)", help_text="Positive to add, negative to remove, e.g. -2."
    )
    reason = forms.ChoiceField(
        choices=[c for c in StockAdjustment.Reason.choices if c[0] not in ("import", "order")]
    )
    note = forms.CharField(max_length=300, required=False)

    def clean_delta(self):
        if self.cleaned_data["delta"] == 0:
            raise forms.ValidationError("Enter a change other than zero.")
        return self.cleaned_data["delta"]


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file", help_text="Columns: sku, title, price, category, quantity."
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > 10 * 1024 * 1024:
            raise forms.ValidationError("The file is larger than 10 MB.")
        return upload


class SettingsForm(forms.Form):
    prep_minutes = forms.IntegerField(label="Prep time (minutes)", min_value=1, max_value=240)
    acceptance_minutes = forms.IntegerField(
        label="Acceptance window (minutes)",
        min_value=1,
        max_value=120,
        help_text="Orders not accepted within this time are flagged to operations.",
    )
    pickup_instructions = forms.CharField(
        label="Pickup instructions for drivers",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=1000,
    )


class DayHoursForm(forms.Form):
    closed = forms.BooleanField(label="Closed", required=False)
    opens_at = forms.TimeField(
        label="Opens", required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    closes_at = forms.TimeField(
        label="Closes", required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )

    def clean(self):
        data = super().clean()
        if data.get("closed"):
            return data
        opens, closes = data.get("opens_at"), data.get("closes_at")
        if opens is None and "opens_at" not in self.errors:
            self.add_error("opens_at", "Enter an opening time, or tick Closed.")
        if closes is None and "closes_at" not in self.errors:
            self.add_error("closes_at", "Enter a closing time, or tick Closed.")
        if opens and closes and closes <= opens:
            self.add_error("closes_at", "Closing must be after opening.")
        return data


WEEKDAYS = StoreHours.Weekday.choices


class ClosureForm(forms.Form):
    starts_on = forms.DateField(label="First day", widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label="Last day", widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(max_length=200, required=False)

    def clean(self):
        data = super().clean()
        if data.get("starts_on") and data.get("ends_on") and data["ends_on"] < data["starts_on"]:
            self.add_error("ends_on", "The last day can't be before the first.")
        return data


class PauseForm(forms.Form):
    FOR_CHOICES = [("15", "15 minutes"), ("30", "30 minutes"), ("60", "1 hour"), ("120", "2 hours")]
    duration = forms.ChoiceField(label="Pause for", choices=FOR_CHOICES, required=False)
    until = forms.DateTimeField(
        label="…or until (local time)",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
    reason = forms.CharField(max_length=200, required=False)

    def clean(self):
        data = super().clean()
        if not data.get("duration") and not data.get("until") and "until" not in self.errors:
            self.add_error("duration", "Choose how long, or a time to pause until.")
        return data


class StaffAddForm(forms.Form):
    email = forms.EmailField()
    role = forms.ChoiceField(
        choices=StoreMembership.Role.choices, initial=StoreMembership.Role.ASSOCIATE
    )


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=StoreMembership.Role.choices)


class ReportForm(forms.Form):
    start = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="To", widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end:
            if end < start:
                self.add_error("end", "The end can't be before the start.")
            elif (end - start).days > 92:
                self.add_error("end", "Choose at most 93 days.")
        return data
