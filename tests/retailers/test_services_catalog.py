"""Stock adjustments and the catalog CSV import: checked per row, applied all or nothing."""

import pytest
from django.core.exceptions import PermissionDenied

from orders.permissions import Actor
from retailers.models import Product, Stock, StockAdjustment
from retailers.services import (
    StoreError,
    catalog_export_rows,
    catalog_import_apply,
    catalog_import_parse,
    catalog_import_preview,
    stock_adjust,
)

pytestmark = pytest.mark.django_db

HEADER = "sku,title,price,category,quantity\n"


def csv_bytes(*rows: str, header: str = HEADER) -> bytes:
    return (header + "\n".join(rows) + "\n").encode()


def test_a_manager_adjusts_stock_and_the_reason_is_kept(stock, manager):
    row = stock_adjust(
        store=stock.store,
        product=stock.product,
        actor=Actor.store_staff(manager),
        delta=5,
        reason="received",
        note="Morning delivery",
    )
    assert row.on_hand == 15
    adj = StockAdjustment.objects.get(stock=stock)
    assert (adj.delta, adj.on_hand_after, adj.reason, adj.actor_user) == (
        5,
        15,
        "received",
        manager,
    )


def test_stock_cant_go_below_what_orders_hold(stock, manager, place_order):
    place_order(stock, quantity=4)
    with pytest.raises(StoreError, match="at most 6"):
        stock_adjust(
            store=stock.store,
            product=stock.product,
            actor=Actor.store_staff(manager),
            delta=-7,
            reason="damaged",
        )
    assert Stock.objects.get(pk=stock.pk).on_hand == 10
    assert not StockAdjustment.objects.exists()


@pytest.mark.parametrize("who", ["associate", "other_staff"])
def test_only_the_stores_managers_adjust_stock(request, stock, who):
    with pytest.raises(PermissionDenied):
        stock_adjust(
            store=stock.store,
            product=stock.product,
            actor=Actor.store_staff(request.getfixturevalue(who)),
            delta=1,
            reason="count",
        )


def test_the_import_reports_each_bad_row():
    plan = catalog_import_parse(
        csv_bytes(
            "A1,Lipstick,12.99,Makeup,5",
            "A2,,abc,Makeup,-1",
            "A1,Again,1.00,Makeup,1",
            "A3,Blush,1.999,Makeup,x",
        )
    )
    assert not plan.file_error
    assert [r.line for r in plan.bad_rows] == [3, 4, 5]
    assert "Title is empty." in plan.bad_rows[0].errors
    assert any("Price" in e for e in plan.bad_rows[0].errors)
    assert any("Quantity" in e for e in plan.bad_rows[0].errors)
    assert "also on line 2" in plan.bad_rows[1].errors[0]
    assert len(plan.bad_rows[2].errors) == 2


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"sku,title\nA,B\n", "missing: price, category, quantity"),
        (HEADER.encode("utf-16"), "not UTF-8"),
        (b"", "empty"),
        (HEADER.encode(), "no rows"),
    ],
)
def test_a_wrong_file_is_a_file_error_not_a_crash(data, message):
    assert message in catalog_import_parse(data).file_error


def test_one_bad_row_imports_nothing(store, manager):
    plan = catalog_import_parse(csv_bytes("N1,New one,3.50,Hair,4", "N2,Bad,oops,Hair,1"))
    with pytest.raises(StoreError, match="nothing was imported"):
        catalog_import_apply(store=store, actor=Actor.store_staff(manager), plan=plan)
    assert not Product.objects.filter(sku__in=["N1", "N2"]).exists()


def test_skipping_bad_rows_imports_exactly_the_good_ones(store, manager):
    plan = catalog_import_parse(csv_bytes("N1,New one,3.50,Hair,4", "N2,Bad,oops,Hair,1"))
    result = catalog_import_apply(
        store=store, actor=Actor.store_staff(manager), plan=plan, skip_bad_rows=True
    )
    assert (result.created, result.skipped) == (1, 1)
    product = Product.objects.get(sku="N1", retailer=store.retailer)
    assert product.price_cents == 350
    stock = Stock.objects.get(store=store, product=product)
    assert stock.on_hand == 4
    assert stock.adjustments.get().reason == "import"


def test_the_import_upserts_by_sku_and_dry_run_writes_nothing(stock, manager):
    sku = stock.product.sku
    plan = catalog_import_parse(csv_bytes(f"{sku},Renamed,1.25,Tools,7", "Z9,Fresh,2,Tools,1"))
    catalog_import_preview(store=stock.store, plan=plan)
    assert (plan.count_update, plan.count_new) == (1, 1)
    assert Stock.objects.get(pk=stock.pk).on_hand == 10
    assert not Product.objects.filter(sku="Z9").exists()
    result = catalog_import_apply(store=stock.store, actor=Actor.store_staff(manager), plan=plan)
    assert (result.created, result.updated) == (1, 1)
    stock.refresh_from_db()
    stock.product.refresh_from_db()
    assert (stock.product.title, stock.product.price_cents, stock.on_hand) == ("Renamed", 125, 7)


def test_an_import_cant_set_stock_below_open_orders(stock, manager, place_order):
    place_order(stock, quantity=3)
    plan = catalog_import_parse(csv_bytes(f"{stock.product.sku},T,1,C,2"))
    with pytest.raises(StoreError):
        catalog_import_apply(store=stock.store, actor=Actor.store_staff(manager), plan=plan)
    assert "below the 3 promised" in plan.bad_rows[0].errors[0]
    assert Stock.objects.get(pk=stock.pk).on_hand == 10


def test_an_associate_cant_import(store, associate):
    plan = catalog_import_parse(csv_bytes("N1,New,1,C,1"))
    with pytest.raises(PermissionDenied):
        catalog_import_apply(store=store, actor=Actor.store_staff(associate), plan=plan)


def test_the_export_round_trips_through_the_import(stock, manager):
    rows = list(catalog_export_rows(stock.store))
    assert rows[0] == ["sku", "title", "price", "category", "quantity"]
    text = "\n".join(",".join(str(c) for c in r) for r in rows) + "\n"
    plan = catalog_import_parse(text.encode())
    catalog_import_preview(store=stock.store, plan=plan)
    assert plan.count_unchanged == 1 and not plan.bad_rows


def test_the_bench_command_imports_and_rolls_back(tmp_path):
    from django.core.management import call_command

    out = tmp_path / "bench.md"
    call_command("bench_catalog_import", rows=200, limit=30, out=str(out))
    assert "| first import (all new) | 200 |" in out.read_text()
    assert not Product.objects.filter(sku__startswith="BENCH-").exists()
