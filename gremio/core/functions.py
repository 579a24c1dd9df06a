"""Database functions the ORM lacks, or computes too slowly on one of our databases."""

from __future__ import annotations

from typing import Any

from django.db.models.functions import TruncMonth


class MonthStart(TruncMonth):
    """The first day of a date's month; on SQLite in SQL (``TruncMonth`` calls Python per row)."""

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        sql, params = compiler.compile(self.lhs)
        return f"(substr({sql}, 1, 7) || '-01')", params
