"""Managers' integrations page: the retailer's API keys and webhook endpoints.

Keys and endpoints belong to the retailer (they reach all of its stores), so any manager of
one of its stores sees them; every lookup is limited to that retailer (404 otherwise). The
secret of a new key or a rotated endpoint is shown once, on the page that made it.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from orders.api.auth import api_key_create, api_key_revoke
from orders.models import ApiKey, ApiScope, WebhookDelivery, WebhookEndpoint
from orders.webhooks import (
    EVENT_TYPES,
    webhook_endpoint_create,
    webhook_redeliver,
    webhook_secret_rotate,
    webhook_send_test,
)
from retailers.views.common import actor, nav_context, staff_view

SUBSCRIBABLE = [e for e in EVENT_TYPES if e != "webhook.test"]


class KeyForm(forms.Form):
    name = forms.CharField(label="What is this key for?", max_length=80)
    scopes = forms.MultipleChoiceField(
        label="It may", choices=ApiScope.choices, widget=forms.CheckboxSelectMultiple
    )
    test_mode = forms.BooleanField(label="Test mode (sandbox orders only)", required=False)


class EndpointForm(forms.Form):
    url = forms.URLField(label="Endpoint URL (https)", max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(
        label="Events (none ticked: every event)",
        choices=[(e, e) for e in SUBSCRIBABLE],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    test_mode = forms.BooleanField(
        label="Sandbox endpoint: hears test-mode (sandbox) orders only",
        required=False,
    )

    def clean_url(self):
        url = self.cleaned_data["url"]
        if not url.startswith("https://"):
            raise forms.ValidationError("Use an https:// address: deliveries carry order data.")
        return url


def _page(request, store, *, status=200, key_form=None, endpoint_form=None, secret=None):
    retailer = store.retailer
    context = {
        **nav_context(request, store, "integrations"),
        "keys": ApiKey.objects.filter(retailer=retailer).order_by("-created_at"),
        "endpoints": WebhookEndpoint.objects.filter(retailer=retailer).order_by("-created_at"),
        "key_form": key_form or KeyForm(),
        "endpoint_form": endpoint_form or EndpointForm(),
        "secret": secret,
    }
    return render(request, "retailers/integrations.html", context, status=status)


@staff_view(manager=True)
def integrations(request, store):
    return _page(request, store)


@require_POST
@staff_view(manager=True)
def key_create(request, store):
    form = KeyForm(request.POST)
    if not form.is_valid():
        return _page(request, store, status=400, key_form=form)
    key, raw = api_key_create(
        name=form.cleaned_data["name"],
        scopes=form.cleaned_data["scopes"],
        retailer=store.retailer,
        test_mode=form.cleaned_data["test_mode"],
        actor=actor(request),
    )
    secret = {"label": f"API key “{key.name}”", "value": raw}
    return _page(request, store, secret=secret)


@require_POST
@staff_view(manager=True)
def key_revoke(request, store, pk):
    key = get_object_or_404(ApiKey, pk=pk, retailer=store.retailer)
    api_key_revoke(key=key, actor=actor(request))
    messages.success(request, f"Key {key.prefix}… revoked: it stops working now.")
    return redirect("store:integrations", slug=store.slug)


@require_POST
@staff_view(manager=True)
def endpoint_create(request, store):
    form = EndpointForm(request.POST)
    if not form.is_valid():
        return _page(request, store, status=400, endpoint_form=form)
    endpoint = webhook_endpoint_create(
        url=form.cleaned_data["url"],
        retailer=store.retailer,
        events=form.cleaned_data["events"],
        test_mode=form.cleaned_data["test_mode"],
        actor=actor(request),
    )
    secret = {"label": f"Signing secret for {endpoint.url}", "value": endpoint.secret}
    return _page(request, store, secret=secret)


def _endpoint(store, pk) -> WebhookEndpoint:
    return get_object_or_404(WebhookEndpoint, pk=pk, retailer=store.retailer)


@require_POST
@staff_view(manager=True)
def endpoint_rotate(request, store, pk):
    endpoint = webhook_secret_rotate(endpoint=_endpoint(store, pk), actor=actor(request))
    secret = {
        "label": f"New signing secret for {endpoint.url} (the old one also signs for 24 h)",
        "value": endpoint.secret,
    }
    return _page(request, store, secret=secret)


@require_POST
@staff_view(manager=True)
def endpoint_test(request, store, pk):
    webhook_send_test(endpoint=_endpoint(store, pk))
    messages.success(request, "Test event queued: see the deliveries below.")
    return redirect("store:endpoint", slug=store.slug, pk=pk)


@staff_view(manager=True)
def endpoint_detail(request, store, pk):
    endpoint = _endpoint(store, pk)
    deliveries = endpoint.deliveries.select_related("order").order_by("-created_at")[:100]
    return render(
        request,
        "retailers/endpoint.html",
        {
            **nav_context(request, store, "integrations"),
            "endpoint": endpoint,
            "deliveries": deliveries,
        },
    )


@require_POST
@staff_view(manager=True)
def delivery_redeliver(request, store, pk):
    delivery = get_object_or_404(
        WebhookDelivery.objects.select_related("endpoint"),
        pk=pk,
        endpoint__retailer=store.retailer,
    )
    webhook_redeliver(delivery=delivery, actor=actor(request))
    messages.success(request, f"{delivery.event_type} queued again.")
    return redirect("store:endpoint", slug=store.slug, pk=delivery.endpoint_id)
