"""Move licences and delivery photos uploaded before they became private (0005) out of the
public media folder into PRIVATE_MEDIA_ROOT, where their file names now point."""

import shutil
from pathlib import Path

from django.conf import settings
from django.db import migrations

FIELDS = [("Driver", "licence_photo"), ("RouteStop", "fail_photo"), ("ProofOfDelivery", "photo")]


def move_files(apps, schema_editor):
    public, private = Path(settings.MEDIA_ROOT), Path(settings.PRIVATE_MEDIA_ROOT)
    for model_name, field in FIELDS:
        model = apps.get_model("drivers", model_name)
        names = model.objects.exclude(**{field: ""}).values_list(field, flat=True)
        for name in names.iterator():
            source, target = public / name, private / name
            if source.is_file() and not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(source, target)


class Migration(migrations.Migration):
    dependencies = [("drivers", "0005_private_uploads")]

    operations = [migrations.RunPython(move_files, migrations.RunPython.noop)]
