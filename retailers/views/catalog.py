"""Catalog and stock for managers: list, create/edit, stock adjustments, CSV import/export."""

from __future__ import annotations

import csv
import secrets

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from retailers import services
from retailers.forms import ImportUploadForm, ProductForm, StockAdjustForm
from retailers.models import Product, Stock
from retailers.selectors import store_catalog, store_categories
from retailers.views.common import actor, nav_context, staff_view

IMPORT_SESSION_KEY = "store-import"


@staff_view(manager=True)
@vary_on_headers("HX-Request")
def catalog(request, store):
    q = request.GET.get("q", "").strip()[:100]
    category = request.GET.get("category", "")
    stock = request.GET.get("stock", "")
    page = Paginator(store_catalog(store, q=q, category=category, stock=stock), 50).get_page(
        request.GET.get("page")
    )
    context = {
        **nav_context(request, store, "catalog"),
        "page": page,
        "q": q,
        "category": category,
        "stock": stock,
        "categories": store_categories(store),
        "filters": request.GET.copy(),
    }
    if request.htmx:
        return render(request, "retailers/catalog.html#results", context)
    return render(request, "retailers/catalog.html", context)


def _product_page(request, store, form, product=None, adjust_form=None, status=200):
    stock = None
    history = []
    if product is not None:
        stock = Stock.objects.filter(store=store, product=product).first()
        if stock is not None:
            history = list(stock.adjustments.select_related("actor_user")[:20])
    return render(
        request,
        "retailers/product.html",
        {
            **nav_context(request, store, "catalog"),
            "form": form,
            "product": product,
            "stock": stock,
            "history": history,
            "adjust_form": adjust_form or StockAdjustForm(),
        },
        status=status,
    )


def _save(request, store, product=None):
    form = ProductForm(request.POST, request.FILES)
    if not form.is_valid():
        return _product_page(request, store, form, product, status=400)
    try:
        product = services.product_save(
            store=store, actor=actor(request), product=product, **form.values()
        )
    except services.StoreError as exc:
        form.add_error("sku", str(exc))
        return _product_page(request, store, form, product, status=400)
    messages.success(request, f"Saved {product.title}.")
    return redirect("store:product", store.slug, product.pk)


@staff_view(manager=True)
def product_new(request, store):
    if request.method == "POST":
        return _save(request, store)
    return _product_page(request, store, ProductForm())


def _product_or_404(store, pk) -> Product:
    return get_object_or_404(Product, pk=pk, retailer_id=store.retailer_id, stock__store=store)


@staff_view(manager=True)
def product_edit(request, store, pk):
    product = _product_or_404(store, pk)
    if request.method == "POST":
        return _save(request, store, product)
    return _product_page(
        request, store, ProductForm(initial=ProductForm.initial_for(product)), product
    )


@require_POST
@staff_view(manager=True)
def stock_adjust(request, store, pk):
    product = _product_or_404(store, pk)
    form = StockAdjustForm(request.POST)
    page_form = ProductForm(initial=ProductForm.initial_for(product))
    if not form.is_valid():
        return _product_page(request, store, page_form, product, form, status=400)
    try:
        row = services.stock_adjust(
            store=store,
            product=product,
            actor=actor(request),
            delta=form.cleaned_data["delta"],
            reason=form.cleaned_data["reason"],
            note=form.cleaned_data["note"],
        )
    except services.StoreError as exc:
        form.add_error("delta", str(exc))
        return _product_page(request, store, page_form, product, form, status=400)
    messages.success(request, f"{product.title}: {row.on_hand} on hand.")
    return redirect("store:product", store.slug, product.pk)


class _Echo:
    def write(self, value):
        return value


@staff_view(manager=True)
def catalog_export(request, store):
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        (writer.writerow(row) for row in services.catalog_export_rows(store)),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="{store.slug}-catalog.csv"'
    return response


@staff_view(manager=True)
def catalog_import(request, store):
    """Upload → dry-run preview with a per-row report → apply (all or, if chosen, the good rows).

    The uploaded text waits in the session between preview and apply, under a one-time token.
    """
    context = nav_context(request, store, "catalog")
    if request.method == "POST" and "token" in request.POST:
        pending = request.session.get(IMPORT_SESSION_KEY) or {}
        if pending.get("token") != request.POST["token"] or pending.get("store") != store.pk:
            messages.error(request, "That preview has expired; upload the file again.")
            return redirect("store:catalog_import", store.slug)
        plan = services.catalog_import_parse(pending["data"].encode())
        skip = request.POST.get("skip_bad_rows") == "1"
        try:
            result = services.catalog_import_apply(
                store=store, actor=actor(request), plan=plan, skip_bad_rows=skip
            )
        except services.StoreError as exc:
            services.catalog_import_preview(store=store, plan=plan)
            return render(
                request,
                "retailers/catalog_import.html",
                {
                    **context,
                    "form": ImportUploadForm(),
                    "plan": plan,
                    "token": pending["token"],
                    "apply_error": str(exc),
                },
                status=400,
            )
        del request.session[IMPORT_SESSION_KEY]
        messages.success(
            request,
            f"Imported: {result.created} new, {result.updated} updated, "
            f"{result.unchanged} unchanged, {result.skipped} skipped.",
        )
        return redirect("store:catalog", store.slug)
    if request.method == "POST":
        form = ImportUploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return render(
                request, "retailers/catalog_import.html", {**context, "form": form}, status=400
            )
        data = form.cleaned_data["file"].read()
        plan = services.catalog_import_parse(data)
        if plan.file_error:
            form.add_error("file", plan.file_error)
            return render(
                request, "retailers/catalog_import.html", {**context, "form": form}, status=400
            )
        services.catalog_import_preview(store=store, plan=plan)
        token = secrets.token_urlsafe(16)
        request.session[IMPORT_SESSION_KEY] = {
            "token": token,
            "store": store.pk,
            "data": data.decode("utf-8-sig"),
        }
        return render(
            request,
            "retailers/catalog_import.html",
            {**context, "form": ImportUploadForm(), "plan": plan, "token": token},
        )
    return render(request, "retailers/catalog_import.html", {**context, "form": ImportUploadForm()})
