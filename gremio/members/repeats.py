"""What each service delivery keeps of the one before it, so reports count companies fast.

``company_before`` is the date of the company's previous delivery (of any
service), ``service_before`` of its previous delivery of the same service,
"previous" in (date, id) order; empty for the first one. The companies
served in any period are then its deliveries whose ``company_before`` is
empty or before the period starts — exactly one per company, the first it
received in the period — so a report counts them while it adds up the
deliveries, in the same pass, with no ``COUNT(DISTINCT)`` (a sort of every
delivery of the period) and no second query for the total; likewise
``service_before`` counts the companies served per service.

Kept by ``services.delivery_save`` / ``delivery_delete`` for the companies
a write touches, and rebuilt for a whole organisation after a bulk load
(the demo, ``members_rebuild``): both with one ``UPDATE`` reading the
window function ``LAG()``, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import connections, router
from django.db.models import Q

FIELDS = ("company_before", "service_before")


def before(start: Any, field: str = "company_before") -> Any:
    """Deliveries that are the first in a period starting on ``start`` (a date or an
    expression): of their company (``company_before``) or of their company and service."""
    return Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__lt": start})


def rebuild(
    delivery_model: Any,
    *,
    organisation_id: int | None = None,
    company_ids: Iterable[int] | None = None,
    using: str | None = None,
) -> int:
    """Recompute the fields for an organisation's deliveries, or some companies' (every
    delivery without either); returns how many rows changed.

    ``delivery_model`` (and ``using``) are passed so a migration can use its
    historical model on its connection.
    A company's deliveries all belong to it, so a subset of companies is
    computed exactly from their own rows.
    """
    database = connections[using or router.db_for_write(delivery_model)]
    quote = database.ops.quote_name
    table = quote(delivery_model._meta.db_table)
    where, params = "", []
    if company_ids is not None:
        ids = sorted({int(pk) for pk in company_ids})
        if not ids:
            return 0
        where = f"WHERE company_id IN ({', '.join(['%s'] * len(ids))})"
        params = ids
    elif organisation_id is not None:
        where, params = "WHERE organisation_id = %s", [organisation_id]
    # NULL-safe comparison: IS NOT on SQLite, IS DISTINCT FROM on PostgreSQL.
    differs = "IS NOT" if database.vendor == "sqlite" else "IS DISTINCT FROM"
    sql = (
        f"UPDATE {table} SET company_before = found.company_before, "
        "service_before = found.service_before "
        "FROM (SELECT id, "
        "LAG(date) OVER (PARTITION BY company_id ORDER BY date, id) AS company_before, "
        "LAG(date) OVER (PARTITION BY company_id, service_id ORDER BY date, id) "
        f"AS service_before FROM {table} {where}) found "
        f"WHERE {table}.id = found.id "
        f"AND ({table}.company_before {differs} found.company_before "
        f"OR {table}.service_before {differs} found.service_before)"
    )
    with database.cursor() as cursor:
        cursor.execute(sql, params)
        return max(cursor.rowcount, 0)
