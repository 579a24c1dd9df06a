"""Recompute the maintained balances from the journal lines and compare."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Sum

from gremio.core.models import Organisation

from .models import ZERO, AccountBalance, JournalLine


@dataclass(frozen=True)
class Difference:
    account: str
    period: str
    pillar_id: int | None
    kept: tuple[Decimal, Decimal]
    lines: tuple[Decimal, Decimal]


def ledger_differences(organisation: Organisation) -> list[Difference]:
    """Every (account, period, pillar) whose kept balance differs from the sum of its lines."""
    from_lines: dict[Any, tuple[Decimal, Decimal]] = {
        (row["account_id"], row["period_id"], row["pillar_id"]): (row["debit"], row["credit"])
        for row in JournalLine.objects.filter(organisation=organisation, entry__state="posted")
        .values("account_id", "period_id", "pillar_id")
        .annotate(debit=Sum("debit"), credit=Sum("credit"))
        .order_by()
    }
    kept: dict[Any, tuple[Decimal, Decimal]] = {
        (row.account_id, row.period_id, row.pillar_id): (row.debit, row.credit)
        for row in AccountBalance.objects.filter(organisation=organisation)
    }
    differences = []
    names: dict[str, dict[Any, str]] = {}
    for key in sorted(set(from_lines) | set(kept), key=lambda k: (k[0], k[1], k[2] or 0)):
        expected = from_lines.get(key, (ZERO, ZERO))
        actual = kept.get(key, (ZERO, ZERO))
        if expected != actual:
            if not names:
                from .models import Account, Period

                names = {
                    "account": dict(
                        Account.objects.filter(organisation=organisation).values_list("pk", "code")
                    ),
                    "period": {
                        p.pk: str(p) for p in Period.objects.filter(organisation=organisation)
                    },
                }
            differences.append(
                Difference(
                    account=names["account"].get(key[0], str(key[0])),
                    period=names["period"].get(key[1], str(key[1])),
                    pillar_id=key[2],
                    kept=actual,
                    lines=expected,
                )
            )
    return differences
