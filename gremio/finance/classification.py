"""The company's classification an invoice or payment keeps: its SCIAN sector group and chamber.

As ERPNext keeps the customer group and territory on each sales invoice, a
document is stamped with its company's classification when it is created
(an invoice again when it is issued), so the reports by sector or chamber
group on the document's own columns, read from an index, with no join to
the company. It is a snapshot: a company that changes chamber later leaves
its documents where they were invoiced or paid.

The sector group is the parent of the company's subsector, or the company's
sector itself when that is a top-level one.

This module imports no models: migration 0006 fills the existing documents
with ``fill``, which must not depend on the current models.
"""

from __future__ import annotations

from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import F, QuerySet
from django.db.models.functions import Coalesce

Classification = tuple[int | None, int | None]  # (sector group id, chamber id)

# The tables fill updates: each has company_id, sector_id and chamber_id.
DOCUMENT_TABLES = ("finance_invoice", "finance_payment")


def classification(company: Any) -> Classification:
    """The sector group and chamber a document of ``company`` keeps.

    Reads the company's sector (no query when it was selected with the company).
    """
    sector = company.sector
    return (sector.parent_id or sector.pk) if sector else None, company.chamber_id


def classify(document: Any) -> None:
    """Stamp an invoice or payment with its company's classification."""
    document.sector_id, document.chamber_id = classification(document.company)


def classifications(companies: QuerySet[Any]) -> dict[int, Classification]:
    """{company id: classification} of ``companies``, in one query (for bulk writes)."""
    rows = companies.order_by().values_list(
        "pk", Coalesce(F("sector__parent_id"), F("sector_id")), "chamber_id"
    )
    return {pk: (sector, chamber) for pk, sector, chamber in rows}


def fill(connection: BaseDatabaseWrapper, table: str) -> None:
    """Set every document of ``table`` to its company's classification now, in one UPDATE.

    UPDATE … FROM works on PostgreSQL and SQLite (3.33 or later). Documents of
    unclassified companies are not written (they stay null): on PostgreSQL
    every row updated is a new row version. Migration 0006 runs it: it must
    keep working on the tables as that migration leaves them.
    """
    quote = connection.ops.quote_name
    document = quote(table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {document} "
            "SET sector_id = COALESCE(s.parent_id, s.id), chamber_id = c.chamber_id "
            f"FROM {quote('members_company')} c "
            f"LEFT JOIN {quote('members_sector')} s ON s.id = c.sector_id "
            f"WHERE c.id = {document}.company_id "
            "AND (c.sector_id IS NOT NULL OR c.chamber_id IS NOT NULL)"
        )
