"""Shared counters in an UNLOGGED table on PostgreSQL.

They are bookkeeping that every API request and board change writes: the throttle's windows
and the boards' versions. Unlogged, PostgreSQL writes no WAL for them, so their commits don't
wait for a disk flush (about halving the cost of an API request's throttle write). After a
crash the table comes back empty: throttle windows start again and board versions restart,
which only makes the boards render afresh (a kept render lives a few seconds). Unlogged tables
aren't copied to replicas; counters are always read from the primary (orders/counters.py).
"""

from django.db import migrations


def _set(logged: bool):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        table = schema_editor.quote_name(apps.get_model("orders", "SharedCounter")._meta.db_table)
        schema_editor.execute(f"ALTER TABLE {table} SET {'LOGGED' if logged else 'UNLOGGED'}")

    return run


class Migration(migrations.Migration):
    dependencies = [("orders", "0013_order_partner_newest")]

    operations = [migrations.RunPython(_set(False), _set(True))]
