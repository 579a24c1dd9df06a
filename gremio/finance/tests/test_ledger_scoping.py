"""Cross-organisation 404s for the ledger's pages: accounts, years, periods, journal, budgets."""

from __future__ import annotations

import datetime as dt
from typing import Any

import factory
from django.test import TestCase

from gremio.core.testing import OrganisationScopingTests
from gremio.core.tests.factories import OrganisationFactory
from gremio.finance.models import Budget, JournalEntry, JournalLine, Period

from .factories import (
    AccountFactory,
    FiscalYearFactory,
    books,
    budget_factory,
    organisation_period,
    posted_entry,
)

YEAR = {"first": dt.date(2026, 1, 1), "last": dt.date(2026, 12, 31)}


class LedgerFactory(factory.django.DjangoModelFactory):
    """A record made through the services, in an organisation whose books are set up."""

    class Meta:
        abstract = True

    organisation = factory.SubFactory(OrganisationFactory)

    @classmethod
    def _create(cls, model_class: Any, *args: Any, organisation: Any, **kwargs: Any) -> Any:
        books(organisation, **YEAR)
        return cls.make(organisation)

    @classmethod
    def make(cls, organisation: Any) -> Any:
        raise NotImplementedError


class PeriodFactory(LedgerFactory):
    class Meta:
        model = Period

    @classmethod
    def make(cls, organisation: Any) -> Period:
        return organisation_period(organisation, dt.date(2026, 1, 1))


class JournalEntryFactory(LedgerFactory):
    class Meta:
        model = JournalEntry

    @classmethod
    def make(cls, organisation: Any) -> JournalEntry:
        return posted_entry(organisation)


class JournalLineFactory(LedgerFactory):
    class Meta:
        model = JournalLine

    @classmethod
    def make(cls, organisation: Any) -> JournalLine:
        line = posted_entry(organisation).lines.order_by("pk").first()
        assert line is not None
        return line


class BudgetFactory(LedgerFactory):
    class Meta:
        model = Budget

    @classmethod
    def make(cls, organisation: Any) -> Budget:
        return budget_factory(organisation=organisation)


class TestAccountScoping(OrganisationScopingTests, TestCase):
    factory = AccountFactory


class TestFiscalYearScoping(OrganisationScopingTests, TestCase):
    factory = FiscalYearFactory


class TestPeriodScoping(OrganisationScopingTests, TestCase):
    factory = PeriodFactory


class TestJournalEntryScoping(OrganisationScopingTests, TestCase):
    factory = JournalEntryFactory


class TestJournalLineScoping(OrganisationScopingTests, TestCase):
    factory = JournalLineFactory


class TestBudgetScoping(OrganisationScopingTests, TestCase):
    factory = BudgetFactory
