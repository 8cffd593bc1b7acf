"""Periodic webhook retries (every minute) and API housekeeping (hourly) as django-q2
schedules. Idempotent (update_or_create by name)."""

from django.db import migrations

SCHEDULES = {
    "webhooks-due-every-minute": {
        "func": "orders.webhooks.webhook_deliver_due",
        "schedule_type": "I",
        "minutes": 1,
        "repeats": -1,
    },
    "api-housekeeping-hourly": {
        "func": "orders.tasks.api_housekeeping",
        "schedule_type": "H",
        "repeats": -1,
    },
}


def create_schedules(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    for name, defaults in SCHEDULES.items():
        Schedule.objects.update_or_create(name=name, defaults=defaults)


def remove_schedules(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name__in=list(SCHEDULES)).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0003_api_webhooks"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create_schedules, remove_schedules)]
