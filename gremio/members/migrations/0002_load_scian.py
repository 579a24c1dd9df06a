"""Load the SCIAN sectors and subsectors shipped in data/scian.csv."""

import csv
from pathlib import Path

from django.db import migrations

DATA = Path(__file__).resolve().parent.parent / "data" / "scian.csv"


def load(apps, schema_editor):
    Sector = apps.get_model("members", "Sector")
    with DATA.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    by_code = {}
    for row in rows:  # Sectors come before their subsectors in the file.
        sector, _ = Sector.objects.update_or_create(
            code=row["code"],
            defaults={
                "name_es": row["name_es"],
                "name_en": row["name_en"],
                "parent": by_code.get(row["parent"]),
            },
        )
        by_code[row["code"]] = sector


class Migration(migrations.Migration):
    dependencies = [("members", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
