"""On PostgreSQL, trigram indexes make the company search ("contains") an index read.

SQLite has no trigram indexes; there the migration does nothing. pg_trgm is a
trusted extension (PostgreSQL 13+), so the database owner may create it.
"""

from django.db import migrations

FIELDS = ("legal_name", "trade_name", "rfc")


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for field in FIELDS:
        # UPPER(...): Django's icontains compares UPPER(column) LIKE UPPER(%value%).
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS members_company_trgm_{field} ON members_company "
            f"USING gin (UPPER({field}::text) gin_trgm_ops)"
        )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for field in FIELDS:
        schema_editor.execute(f"DROP INDEX IF EXISTS members_company_trgm_{field}")


class Migration(migrations.Migration):
    dependencies = [("members", "0005_delivery_report_index")]
    operations = [migrations.RunPython(forwards, backwards)]
