from django import forms

from drivers.models import Driver
from orders.models import ActorKind
from orders.ops.selectors import AUDIT_SOURCES


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label="Reason", max_length=300, help_text="Kept in the audit trail.", strip=True
    )


class ReassignForm(ReasonForm):
    driver = forms.TypedChoiceField(label="Give it to", coerce=int)

    def __init__(self, *args, drivers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.drivers = {d.pk: d for d in drivers}
        self.fields["driver"].choices = [("", "Choose a driver")] + [
            (d.pk, f"{d} · {d.get_vehicle_type_display()}") for d in drivers
        ]
        self.order_fields(["driver", "reason"])


class BoostForm(ReasonForm):
    dollars = forms.IntegerField(label="Boost (dollars)", min_value=1, max_value=50, initial=3)
    field_order = ["dollars", "reason"]


class PauseForm(ReasonForm):
    minutes = forms.TypedChoiceField(
        label="Pause for",
        coerce=int,
        choices=[(15, "15 minutes"), (30, "30 minutes"), (60, "1 hour"), (120, "2 hours")],
        initial=30,
    )
    field_order = ["minutes", "reason"]


class ReviewForm(forms.Form):
    status = forms.ChoiceField(
        label="Decision",
        choices=[
            (Driver.Status.APPROVED, "Approve"),
            (Driver.Status.REJECTED, "Reject"),
            (Driver.Status.SUSPENDED, "Suspend"),
        ],
    )
    reason = forms.CharField(
        label="Reason", max_length=300, required=False, help_text="Needed to reject or suspend."
    )

    def clean(self):
        data = super().clean()
        if data.get("status") in (Driver.Status.REJECTED, Driver.Status.SUSPENDED) and not data.get(
            "reason"
        ):
            self.add_error("reason", "Say why.")
        return data


class AuditFilterForm(forms.Form):
    q = forms.CharField(label="Search", required=False)
    source = forms.ChoiceField(
        label="What", required=False, choices=[("", "Everything"), *AUDIT_SOURCES.items()]
    )
    actor_kind = forms.ChoiceField(
        label="Who", required=False, choices=[("", "Anyone"), *ActorKind.choices]
    )
    mall = forms.CharField(label="Mall", required=False, widget=forms.Select)
    day = forms.DateField(
        label="Day", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, malls=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.malls = {m.slug: m for m in malls}
        self.fields["mall"] = forms.ChoiceField(
            label="Mall",
            required=False,
            choices=[("", "All malls")] + [(m.slug, m.name) for m in malls],
        )
