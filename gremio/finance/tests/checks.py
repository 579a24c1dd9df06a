"""What the finance tests check after an operation: the books' state and balances."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Sum

from gremio.core.models import Organisation
from gremio.finance.models import (
    ZERO,
    AccountBalance,
    Allocation,
    Bill,
    BillPayment,
    Invoice,
    JournalEntry,
    JournalLine,
    Payment,
    Period,
    Sequence,
)
from gremio.finance.verify import ledger_differences


def rows(model: Any, organisation: Organisation, *fields: str) -> list[tuple[Any, ...]]:
    return list(model.objects.filter(organisation=organisation).order_by("pk").values_list(*fields))


def world(organisation: Organisation) -> tuple[Any, ...]:
    """Everything a refused operation must leave exactly as it was."""
    return (
        rows(JournalEntry, organisation, "pk", "state"),
        JournalLine.objects.filter(organisation=organisation).count(),
        rows(AccountBalance, organisation, "pk", "debit", "credit"),
        rows(
            Invoice,
            organisation,
            "pk",
            "number",
            "state",
            "amount_paid",
            "closed_on",
            "days_to_pay",
            "entry",
            "payment_cancelled_on",
        ),
        rows(Payment, organisation, "pk", "allocated", "cancelled_on", "cancellation_entry"),
        rows(Allocation, organisation, "pk", "cancelled_on"),
        rows(Bill, organisation, "pk", "state", "amount_paid", "closed_on", "entry"),
        rows(BillPayment, organisation, "pk", "cancelled_on", "cancellation_entry"),
        rows(Period, organisation, "pk", "status"),
        rows(Sequence, organisation, "key", "next_number"),
    )


def refused(
    org: Organisation, match: str, operation: Any, *args: Any, **kwargs: Any
) -> ValidationError:
    """``operation`` is refused with a message matching ``match`` and writes nothing."""
    before = world(org)
    with pytest.raises(ValidationError, match=match) as error:
        operation(*args, **kwargs)
    assert world(org) == before
    assert ledger_differences(org) == []
    return error.value


def balance(org: Organisation, code: str) -> Decimal:
    """The account's balance (debits less credits) over every period."""
    totals = AccountBalance.objects.filter(organisation=org, account__code=code).aggregate(
        debit=Sum("debit"), credit=Sum("credit")
    )
    return (totals["debit"] or ZERO) - (totals["credit"] or ZERO)
