"""Run the acceptance-window check every minute (django-q2's scheduler)."""

from django.db import migrations

FUNC = "retailers.tasks.flag_slow_acceptance"


def add_schedule(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.get_or_create(
        func=FUNC,
        defaults={"name": "Flag orders not accepted in time", "schedule_type": "I", "minutes": 1},
    )


def remove_schedule(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(func=FUNC).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("retailers", "0002_store_pickup_instructions_stockadjustment_and_more"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(add_schedule, remove_schedule)]
