"""Triggers on PostgreSQL and SQLite that refuse to change posted entries (see ledger_sql.py)."""

from django.db import migrations

from gremio.finance import ledger_sql


def create(apps, schema_editor):
    ledger_sql.create_triggers(schema_editor.connection)


def drop(apps, schema_editor):
    ledger_sql.drop_triggers(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("finance", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
