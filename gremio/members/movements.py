"""How each membership moved: kept on the membership, so the movements report counts in SQL.

With g the grace days of a membership's plan, and its grace ending on end + g:

- ``renews``: it starts at most g + 1 days after an earlier one of the same
  company ends (and that one was not resigned before it starts); otherwise
  it is a member *gained* (a first membership, or one after a gap).
- ``left_as`` / ``left_on``: *resigned* on the resignation day, when it was
  resigned by the end of its grace; else *lapsed* on the last day of its
  grace, unless a later membership renews it (one that starts by the day
  after the grace and runs past its end); else it did not leave.
- ``run_until``: on the first membership of each unbroken run of a company's
  memberships, the last day the run makes it a member (a resignation ends
  membership the day before; the grace days count). Runs of one company
  never overlap, so the members on a day are the runs that cover it,
  counted without ``DISTINCT``.

None of this depends on today: the report counts a lapse only once its
grace is over, and nothing after today. The fields follow every change of
a company's memberships (``services.company_refresh``) and of a plan's
grace days (``plan_refresh``); ``rebuild`` recomputes an organisation's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import groupby
from operator import attrgetter
from typing import Any

from django.db import connections, models
from django.utils.translation import pgettext_lazy

DAY = dt.timedelta(days=1)
FIELDS = ("renews", "left_as", "left_on", "run_until")


class Left(models.TextChoices):
    LAPSED = "lapsed", pgettext_lazy("membership status", "Lapsed")
    RESIGNED = "resigned", pgettext_lazy("membership status", "Resigned")


@dataclass
class Term:
    """A membership as the movements see it."""

    start: dt.date
    end: dt.date
    resigned_on: dt.date | None
    grace_days: int

    @property
    def grace_end(self) -> dt.date:
        return self.end + dt.timedelta(days=self.grace_days)


Movement = tuple[bool, str, dt.date | None, dt.date | None]  # the values of FIELDS


def compute(terms: Sequence[Term]) -> list[Movement]:
    """The movement fields of one company's memberships (``terms``, in order of start)."""
    found: list[Movement] = []
    run_head: int | None = None
    run_last = dt.date.min
    heads: dict[int, dt.date] = {}
    for index, term in enumerate(terms):
        first, last, resigned, grace_end = term.start, term.end, term.resigned_on, term.grace_end
        renews = any(
            earlier.start < first
            and earlier.grace_end + DAY >= first
            and (earlier.resigned_on is None or earlier.resigned_on >= first)
            for earlier in terms
        )
        left_as, left_on = "", None
        if resigned is not None and resigned <= grace_end:
            member_until = resigned - DAY
            left_as, left_on = Left.RESIGNED, resigned
        else:
            member_until = grace_end
            renewed = any(
                first < later.start <= grace_end + DAY and later.end > last for later in terms
            )
            if not renewed:
                left_as, left_on = Left.LAPSED, grace_end
        found.append((renews, left_as, left_on, None))
        # A company is a member once a day, however many of its memberships overlap.
        if member_until < first:
            continue
        if run_head is not None and first <= run_last + DAY:
            run_last = max(run_last, member_until)
            heads[run_head] = run_last
            continue
        run_head, run_last = index, member_until
        heads[index] = run_last
    for index, until in heads.items():
        renews, left_as, left_on, _none = found[index]
        found[index] = (renews, left_as, left_on, until)
    return found


def changed_rows(memberships: Sequence[Any], grace: dict[Any, int]) -> list[Any]:
    """Set the fields on one company's membership objects; return those that changed."""
    ordered = sorted(memberships, key=lambda m: (m.start, m.pk or 0))
    found = compute([Term(m.start, m.end, m.resigned_on, grace[m.plan_id]) for m in ordered])
    changed = []
    for membership, values in zip(ordered, found, strict=True):
        if tuple(getattr(membership, name) for name in FIELDS) != values:
            for name, value in zip(FIELDS, values, strict=True):
                setattr(membership, name, value)
            changed.append(membership)
    return changed


def refresh(memberships: Sequence[Any]) -> int:
    """Bring one company's memberships (with their plans) up to date; the rows changed."""
    changed = changed_rows(memberships, {m.plan_id: m.plan.grace_days for m in memberships})
    if changed:
        # Derived figures: saved without the change log, like a cached total.
        type(changed[0]).objects.bulk_update(changed, FIELDS)
    return len(changed)


def rebuild(membership_model: Any, plan_model: Any, **scope: Any) -> int:
    """Recompute the fields of every membership in ``scope`` (an organisation, or companies).

    One pass in company order, in chunks; only the rows that changed are
    written, with one prepared ``UPDATE`` run for many rows (``bulk_update``
    builds a ``CASE`` per field and row: minutes at 200,000 memberships).
    ``membership_model`` / ``plan_model`` are passed so a migration can use
    its historical models.
    """
    grace = dict(plan_model.objects.values_list("pk", "grace_days"))
    rows = (
        membership_model.objects.filter(**scope)
        .order_by("company_id", "start", "pk")
        .only("pk", "company_id", "plan_id", "start", "end", "resigned_on", *FIELDS)
    )
    database = connections[rows.db]
    quote = database.ops.quote_name
    columns = ", ".join(f"{quote(name)} = %s" for name in FIELDS)
    sql = f"UPDATE {quote(membership_model._meta.db_table)} SET {columns} WHERE id = %s"
    written = 0

    def write(changed: list[Any]) -> None:
        values = [
            (
                m.renews,
                m.left_as,
                database.ops.adapt_datefield_value(m.left_on),
                database.ops.adapt_datefield_value(m.run_until),
                m.pk,
            )
            for m in changed
        ]
        with database.cursor() as cursor:
            cursor.executemany(sql, values)

    pending: list[Any] = []
    for _company, group in groupby(rows.iterator(chunk_size=5000), key=attrgetter("company_id")):
        pending += changed_rows(list(group), grace)
        if len(pending) >= 5000:
            write(pending)
            written, pending = written + len(pending), []
    if pending:
        write(pending)
        written += len(pending)
    return written
