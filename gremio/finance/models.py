"""Finance (ERP): the ledger, its periods, and the documents that post to it.

Only ``services.py`` writes journal entries, their lines and the maintained
balances; a posted entry is never changed (database triggers refuse it,
see ``ledger_sql.py``), only reversed by a new entry.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from gremio.core.models import OrganisationOwned, Pillar

ZERO = Decimal("0")


def money_field(verbose_name: Any, **kwargs: Any) -> models.DecimalField:
    kwargs.setdefault("default", ZERO)
    return models.DecimalField(verbose_name, max_digits=16, decimal_places=2, **kwargs)


def classification_fields() -> tuple[models.ForeignKey[Any, Any], models.ForeignKey[Any, Any]]:
    """A document's snapshot of its company's SCIAN sector group and chamber.

    It stays as it was when the company changes later; deleting the sector or
    chamber empties it rather than being refused.
    """

    def snapshot(to: str, verbose_name: Any) -> models.ForeignKey[Any, Any]:
        return models.ForeignKey(
            to,
            verbose_name=verbose_name,
            on_delete=models.SET_NULL,
            null=True,
            blank=True,
            editable=False,
            related_name="+",
            db_index=False,  # read from the report indexes, which carry it
        )

    return snapshot("members.Sector", _("sector")), snapshot("members.Chamber", _("chamber"))


def _url(obj: OrganisationOwned, name: str) -> str:
    return reverse(f"finance:{name}", kwargs={"org": obj.organisation.slug, "pk": obj.pk})


# Chart of accounts -------------------------------------------------------------


class AccountType(models.TextChoices):
    ASSET = "asset", _("Asset")
    LIABILITY = "liability", _("Liability")
    EQUITY = "equity", _("Equity")
    INCOME = "income", pgettext_lazy("account type", "Income")
    EXPENSE = "expense", pgettext_lazy("account type", "Expense")


# Types whose balance is normally on the debit side.
DEBIT_TYPES = frozenset({AccountType.ASSET, AccountType.EXPENSE})
BALANCE_SHEET_TYPES = frozenset({AccountType.ASSET, AccountType.LIABILITY, AccountType.EQUITY})


class Account(OrganisationOwned):
    """An account of the chart. Only leaves (``postable``) take journal lines."""

    code = models.CharField(_("code"), max_length=20)
    name = models.CharField(_("name"), max_length=200)
    type = models.CharField(_("type"), max_length=10, choices=AccountType.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent account"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    postable = models.BooleanField(
        _("postable"),
        default=True,
        help_text=_("Entries post to postable accounts; the others group them."),
    )
    sat_code = models.CharField(
        _("SAT grouping code"),
        max_length=10,
        blank=True,
        help_text=_("The SAT's código agrupador, as in 102.01."),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        ordering = ("code",)
        constraints = [
            models.UniqueConstraint(
                fields=("organisation", "code"),
                name="%(app_label)s_%(class)s_unique_code",
                violation_error_message=_("There is already an account with this code."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def get_absolute_url(self) -> str:
        return _url(self, "account_detail")

    @property
    def debit_normal(self) -> bool:
        return self.type in DEBIT_TYPES


class VatRate(models.TextChoices):
    STANDARD = "16", _("VAT 16 %")
    BORDER = "8", _("VAT 8 % (border region)")
    ZERO = "0", _("VAT 0 %")
    EXEMPT = "exempt", _("Exempt")

    @classmethod
    def rate(cls, value: str) -> Decimal:
        return ZERO if value == cls.EXEMPT else Decimal(value) / 100


class FinanceSettings(OrganisationOwned):
    """The organisation's ledger configuration: which account does what, and the lock date."""

    receivable_account = models.ForeignKey(
        Account, verbose_name=_("receivables account"), on_delete=models.PROTECT, related_name="+"
    )
    customer_advance_account = models.ForeignKey(
        Account,
        verbose_name=_("customer advances account"),
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Holds what members paid and is not yet allocated to an invoice."),
    )
    payable_account = models.ForeignKey(
        Account, verbose_name=_("payables account"), on_delete=models.PROTECT, related_name="+"
    )
    vat_output_account = models.ForeignKey(
        Account, verbose_name=_("VAT charged account"), on_delete=models.PROTECT, related_name="+"
    )
    vat_input_account = models.ForeignKey(
        Account,
        verbose_name=_("VAT creditable account"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    bank_account = models.ForeignKey(
        Account, verbose_name=_("default bank account"), on_delete=models.PROTECT, related_name="+"
    )
    dues_income_account = models.ForeignKey(
        Account, verbose_name=_("dues income account"), on_delete=models.PROTECT, related_name="+"
    )
    retained_earnings_account = models.ForeignKey(
        Account,
        verbose_name=_("retained earnings account"),
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The balance sheet shows past years' results here."),
    )
    dues_vat_rate = models.CharField(
        _("VAT on dues"), max_length=6, choices=VatRate.choices, default=VatRate.STANDARD
    )
    payment_terms_days = models.PositiveSmallIntegerField(
        _("payment terms (days)"), default=30, validators=[MaxValueValidator(365)]
    )
    lock_date = models.DateField(
        _("lock date"),
        null=True,
        blank=True,
        help_text=_("Nothing posts on or before this date. It only moves forward."),
    )

    class Meta:
        verbose_name = _("finance settings")
        verbose_name_plural = _("finance settings")
        ordering = ("organisation",)
        constraints = [
            models.UniqueConstraint(fields=("organisation",), name="finance_settings_one_per_org")
        ]

    def __str__(self) -> str:
        return str(_("Finance settings"))

    def get_absolute_url(self) -> str:
        return reverse("finance:settings", kwargs={"org": self.organisation.slug})


# Fiscal years and periods -------------------------------------------------------


class FiscalYear(OrganisationOwned):
    """A fiscal year (ejercicio) of twelve monthly periods."""

    name = models.CharField(_("name"), max_length=20)
    start = models.DateField(_("start"))
    end = models.DateField(_("end"))

    class Meta:
        verbose_name = _("fiscal year")
        verbose_name_plural = _("fiscal years")
        ordering = ("-start",)
        constraints = [
            models.UniqueConstraint(
                fields=("organisation", "start"),
                name="%(app_label)s_%(class)s_unique_start",
                violation_error_message=_("There is already a fiscal year starting on this date."),
            ),
            models.CheckConstraint(
                condition=Q(end__gt=F("start")),
                name="%(app_label)s_%(class)s_end_after_start",
                violation_error_message=_("The end must be after the start."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return _url(self, "fiscalyear_detail")


class Period(OrganisationOwned):
    """A month of a fiscal year; closed, it takes no postings until reopened."""

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("period", "Open")
        CLOSED = "closed", pgettext_lazy("period", "Closed")

    fiscal_year = models.ForeignKey(
        FiscalYear, verbose_name=_("fiscal year"), on_delete=models.CASCADE, related_name="periods"
    )
    number = models.PositiveSmallIntegerField(_("number"))
    start = models.DateField(_("start"))
    end = models.DateField(_("end"))
    status = models.CharField(
        _("status"), max_length=6, choices=Status.choices, default=Status.OPEN, editable=False
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True, editable=False)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("closed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )

    class Meta:
        verbose_name = _("period")
        verbose_name_plural = _("periods")
        ordering = ("start",)
        constraints = [
            models.UniqueConstraint(
                fields=("organisation", "start"), name="%(app_label)s_%(class)s_unique_start"
            )
        ]
        indexes = [models.Index(fields=("organisation", "end"), name="finance_period_end")]

    def __str__(self) -> str:
        return f"{self.start:%Y-%m}"

    def get_absolute_url(self) -> str:
        return _url(self, "period_detail")

    @property
    def is_closed(self) -> bool:
        return self.status == self.Status.CLOSED


# Journal -------------------------------------------------------------------------


class EntryKind(models.TextChoices):
    INCOME = "income", pgettext_lazy("entry type", "Income")
    EXPENSE = "expense", pgettext_lazy("entry type", "Expense")
    JOURNAL = "journal", _("Journal")


class JournalEntry(OrganisationOwned):
    """A journal entry (póliza). Posted, it is immutable: the database refuses changes."""

    class State(models.TextChoices):
        DRAFT = "draft", pgettext_lazy("entry", "Draft")
        POSTED = "posted", pgettext_lazy("entry", "Posted")

    kind = models.CharField(
        _("type"), max_length=7, choices=EntryKind.choices, default=EntryKind.JOURNAL
    )
    fiscal_year = models.ForeignKey(
        FiscalYear,
        verbose_name=_("fiscal year"),
        on_delete=models.PROTECT,
        related_name="entries",
        editable=False,
    )
    number = models.PositiveIntegerField(_("number"), null=True, blank=True, editable=False)
    date = models.DateField(_("date"))
    period = models.ForeignKey(
        Period,
        verbose_name=_("period"),
        on_delete=models.PROTECT,
        related_name="entries",
        editable=False,
    )
    memo = models.CharField(_("description"), max_length=250)
    company = models.ForeignKey(
        "members.Company",
        verbose_name=_("company"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="journal_entries",
    )
    state = models.CharField(
        _("state"), max_length=6, choices=State.choices, default=State.DRAFT, editable=False
    )
    reverses = models.OneToOneField(
        "self",
        verbose_name=_("reverses"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="reversed_by",
    )
    # What produced the entry ("invoice", "payment"…); empty for manual entries.
    source = models.CharField(_("source"), max_length=20, blank=True, editable=False)
    total = money_field(_("total"), editable=False)
    posted_at = models.DateTimeField(_("posted at"), null=True, blank=True, editable=False)
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("posted by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )

    class Meta:
        verbose_name = _("journal entry")
        verbose_name_plural = _("journal entries")
        ordering = ("-date", "-pk")
        constraints = [
            models.UniqueConstraint(
                fields=("fiscal_year", "kind", "number"),
                condition=Q(number__isnull=False),
                name="finance_entry_unique_number",
            ),
            models.CheckConstraint(
                condition=Q(state="draft") | Q(number__isnull=False),
                name="finance_entry_posted_has_number",
            ),
        ]
        indexes = [
            models.Index(fields=("organisation", "date"), name="finance_entry_date"),
            models.Index(fields=("organisation", "state", "kind"), name="finance_entry_state"),
        ]

    def __str__(self) -> str:
        if self.number is None:
            return str(_("Draft entry {pk}")).format(pk=self.pk or "")
        return f"{self.reference}"

    def get_absolute_url(self) -> str:
        return _url(self, "journalentry_detail")

    @property
    def reference(self) -> str:
        """As in "I-2026-000123": kind, fiscal year, number."""
        if self.number is None:
            return ""
        prefix = {"income": "I", "expense": "E", "journal": "D"}[self.kind]
        return f"{prefix}-{self.fiscal_year.name}-{self.number:06d}"

    @property
    def is_posted(self) -> bool:
        return self.state == self.State.POSTED


class JournalLine(OrganisationOwned):
    """A line (movimiento) of an entry: one side, positive, on a postable account."""

    entry = models.ForeignKey(
        JournalEntry, verbose_name=_("entry"), on_delete=models.CASCADE, related_name="lines"
    )
    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="lines"
    )
    # Copied from the entry (which never changes once posted) so balances and
    # drill-downs read the lines alone.
    period = models.ForeignKey(
        Period, verbose_name=_("period"), on_delete=models.PROTECT, related_name="+"
    )
    date = models.DateField(_("date"))
    debit = money_field(_("debit"))
    credit = money_field(_("credit"))
    pillar = models.ForeignKey(
        Pillar,
        verbose_name=_("strategic pillar"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    description = models.CharField(_("description"), max_length=250, blank=True)

    class Meta:
        verbose_name = _("journal line")
        verbose_name_plural = _("journal lines")
        ordering = ("pk",)
        constraints = [
            models.CheckConstraint(
                condition=(Q(debit__gt=0) & Q(credit=0)) | (Q(debit=0) & Q(credit__gt=0)),
                name="finance_line_one_positive_side",
                violation_error_message=_("A line has a debit or a credit, above zero, not both."),
            )
        ]
        indexes = [
            # An account's lines between two dates, and their totals, from the index alone.
            models.Index(
                fields=("account", "date", "debit", "credit"), name="finance_line_account_date"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account.code} {self.debit or ''}/{self.credit or ''}"


class AccountBalance(OrganisationOwned):
    """Debits and credits of an account in a period (and pillar), kept as entries post.

    One row per (account, period) for lines without a pillar and one per
    (account, period, pillar) for lines with one; an account's period total
    is the sum of its rows. ``finance_verify`` recomputes them from the lines.
    """

    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="balances"
    )
    period = models.ForeignKey(
        Period, verbose_name=_("period"), on_delete=models.PROTECT, related_name="balances"
    )
    pillar = models.ForeignKey(
        Pillar,
        verbose_name=_("strategic pillar"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    debit = money_field(_("debit"))
    credit = money_field(_("credit"))

    changelog_exempt = True  # derived from the lines, which the entries' log covers

    class Meta:
        verbose_name = _("account balance")
        verbose_name_plural = _("account balances")
        ordering = ("period", "account")
        constraints = [
            models.UniqueConstraint(
                fields=("account", "period"),
                condition=Q(pillar__isnull=True),
                name="finance_balance_unique_no_pillar",
            ),
            models.UniqueConstraint(
                fields=("account", "period", "pillar"),
                condition=Q(pillar__isnull=False),
                name="finance_balance_unique_pillar",
            ),
        ]
        indexes = [
            models.Index(
                fields=("organisation", "period", "account", "debit", "credit"),
                name="finance_balance_period",
            )
        ]

    def __str__(self) -> str:
        return f"{self.account} {self.period}"


class Sequence(OrganisationOwned):
    """The next number of a gapless series; its row is locked while a number is taken."""

    key = models.CharField(_("key"), max_length=60)
    next_number = models.PositiveIntegerField(_("next number"), default=1)

    changelog_exempt = True  # the numbered documents are logged themselves

    class Meta:
        verbose_name = _("number sequence")
        verbose_name_plural = _("number sequences")
        ordering = ("key",)
        constraints = [
            models.UniqueConstraint(fields=("organisation", "key"), name="finance_sequence_unique")
        ]

    def __str__(self) -> str:
        return f"{self.key}: {self.next_number}"


# Invoices ------------------------------------------------------------------------


class InvoiceSeries(OrganisationOwned):
    """A numbering series of invoices or credit notes (as in "A" or "NC")."""

    class Kind(models.TextChoices):
        INVOICE = "invoice", _("Invoices")
        CREDIT_NOTE = "credit_note", _("Credit notes")

    prefix = models.CharField(_("prefix"), max_length=10)
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.INVOICE)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("invoice series")
        verbose_name_plural = _("invoice series")
        ordering = ("prefix",)
        constraints = [
            models.UniqueConstraint(
                fields=("organisation", "prefix"),
                name="%(app_label)s_%(class)s_unique_prefix",
                violation_error_message=_("There is already a series with this prefix."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.prefix} · {self.name}"

    def get_absolute_url(self) -> str:
        return _url(self, "invoiceseries_detail")


class Invoice(OrganisationOwned):
    """An invoice (or credit note) to a company; issuing it numbers it and posts its entry."""

    class State(models.TextChoices):
        DRAFT = "draft", pgettext_lazy("invoice", "Draft")
        ISSUED = "issued", pgettext_lazy("invoice", "Issued")
        PAID = "paid", pgettext_lazy("invoice", "Paid")
        CANCELLED = "cancelled", pgettext_lazy("invoice", "Cancelled")

    class Language(models.TextChoices):
        ES = "es", _("Spanish")
        EN = "en", _("English")

    series = models.ForeignKey(
        InvoiceSeries, verbose_name=_("series"), on_delete=models.PROTECT, related_name="invoices"
    )
    number = models.PositiveIntegerField(_("number"), null=True, blank=True, editable=False)
    is_credit_note = models.BooleanField(_("credit note"), default=False, editable=False)
    company = models.ForeignKey(
        "members.Company",
        verbose_name=_("company"),
        on_delete=models.PROTECT,
        related_name="invoices",
    )
    date = models.DateField(_("date"))
    due_date = models.DateField(
        _("due date"), null=True, blank=True, help_text=_("Left empty, it follows from the terms.")
    )
    currency = models.CharField(_("currency"), max_length=3, default="MXN")
    language = models.CharField(
        _("language"), max_length=2, choices=Language.choices, default=Language.ES
    )
    state = models.CharField(
        _("state"), max_length=9, choices=State.choices, default=State.DRAFT, editable=False
    )
    subtotal = money_field(_("subtotal"), editable=False)
    vat = money_field(_("VAT"), editable=False)
    total = money_field(_("total"), editable=False)
    amount_paid = money_field(_("paid"), editable=False)
    # The day it stopped being owed (paid in full or cancelled): the ageing
    # as of an earlier date still counts it.
    closed_on = models.DateField(_("settled on"), null=True, blank=True, editable=False)
    cancelled_on = models.DateField(_("cancelled on"), null=True, blank=True, editable=False)
    # The latest day a payment of it was cancelled. Until then the invoice may
    # have been paid, whatever it owes now: the receivables as of an earlier
    # day read its allocations instead of trusting ``amount_paid``.
    payment_cancelled_on = models.DateField(
        _("payment cancelled on"), null=True, blank=True, editable=False
    )
    # The days from the invoice's date to the day it was paid in full
    # (closed_on − date), kept while it is paid and null otherwise: the
    # payment-times report reads them from the ``finance_invoice_paid`` index
    # instead of computing a date difference per invoice.
    days_to_pay = models.PositiveIntegerField(
        _("days to pay"), null=True, blank=True, editable=False
    )
    entry = models.OneToOneField(
        JournalEntry,
        verbose_name=_("journal entry"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="invoice",
    )
    credit_note_for = models.OneToOneField(
        "self",
        verbose_name=_("credit note for"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="credit_note",
    )
    # Dues: which membership and which billing interval this invoice bills.
    membership = models.ForeignKey(
        "members.Membership",
        verbose_name=_("membership"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="invoices",
    )
    billed_from = models.DateField(_("billed from"), null=True, blank=True)
    billed_to = models.DateField(_("billed to"), null=True, blank=True)
    # The company's classification when the invoice was created (as invoiced: a draft
    # takes it again when issued), so the reports by sector or chamber read the invoice
    # alone; see ``classification``.
    sector, chamber = classification_fields()
    notes = models.TextField(_("notes"), blank=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        ordering = ("-date", "-pk")
        constraints = [
            models.UniqueConstraint(
                fields=("series", "number"),
                condition=Q(number__isnull=False),
                name="finance_invoice_unique_number",
                violation_error_message=_("This number is already used in the series."),
            ),
            # Batch dues invoicing may run twice: a billing interval is billed once.
            models.UniqueConstraint(
                fields=("membership", "billed_from"),
                condition=Q(membership__isnull=False, is_credit_note=False) & ~Q(state="cancelled"),
                name="finance_invoice_unique_dues_interval",
                violation_error_message=_("This membership is already billed for this interval."),
            ),
            models.CheckConstraint(
                condition=Q(amount_paid__gte=0) & Q(amount_paid__lte=F("total")),
                name="finance_invoice_not_overpaid",
                violation_error_message=_("An invoice cannot be paid more than its total."),
            ),
        ]
        indexes = [
            models.Index(fields=("organisation", "state", "date"), name="finance_invoice_state"),
            models.Index(fields=("company", "date"), name="finance_invoice_company"),
            # The ageing as of any day reads the invoices open then from this index alone:
            # with what each owed then (``selectors._owed``) and the kind and state it
            # filters on, or SQLite looks up every open invoice's row.
            models.Index(
                fields=(
                    "organisation",
                    "closed_on",
                    "date",
                    "due_date",
                    "company",
                    "total",
                    "amount_paid",
                    "payment_cancelled_on",
                    "is_credit_note",
                    "state",
                ),
                name="finance_invoice_open",
            ),
            # Payment times: the invoices paid in a period, with what the report groups
            # by (company, sector, chamber) and counts (the days to pay, paid by the due
            # date). SQLite counts a partial index as covering only when it holds its
            # condition's column too: ``state`` stays.
            models.Index(
                fields=(
                    "organisation",
                    "closed_on",
                    "company",
                    "days_to_pay",
                    "due_date",
                    "sector",
                    "chamber",
                    "state",
                ),
                condition=Q(state="paid"),
                name="finance_invoice_paid",
            ),
            models.Index(fields=("organisation", "date"), name="finance_invoice_date"),
            # The credit notes alone: see migration 0006 (SQLite's planner and the
            # one-to-one's index, in which nearly every invoice has no credit note).
            models.Index(
                fields=("credit_note_for",),
                condition=Q(credit_note_for__isnull=False),
                name="finance_invoice_credit_notes",
            ),
        ]

    def __str__(self) -> str:
        return self.reference or str(_("Draft invoice {pk}")).format(pk=self.pk or "")

    def get_absolute_url(self) -> str:
        return _url(self, "invoice_detail")

    @property
    def reference(self) -> str:
        return f"{self.series.prefix}-{self.number}" if self.number else ""

    @property
    def balance_due(self) -> Decimal:
        return self.total - self.amount_paid

    @property
    def is_open(self) -> bool:
        return self.state == self.State.ISSUED


class InvoiceLine(OrganisationOwned):
    """A line of an invoice: what is billed, its income account, pillar and VAT."""

    invoice = models.ForeignKey(
        Invoice, verbose_name=_("invoice"), on_delete=models.CASCADE, related_name="lines"
    )
    description = models.CharField(_("description"), max_length=250)
    service = models.ForeignKey(
        "members.Service",
        verbose_name=_("service"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    account = models.ForeignKey(
        Account, verbose_name=_("income account"), on_delete=models.PROTECT, related_name="+"
    )
    pillar = models.ForeignKey(
        Pillar,
        verbose_name=_("strategic pillar"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    quantity = models.DecimalField(
        _("quantity"),
        max_digits=12,
        decimal_places=2,
        default=Decimal(1),
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    unit_price = models.DecimalField(
        _("unit price"),
        max_digits=14,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    vat_rate = models.CharField(
        _("VAT"), max_length=6, choices=VatRate.choices, default=VatRate.STANDARD
    )
    amount = money_field(_("amount"), editable=False)
    vat = money_field(_("VAT"), editable=False)

    class Meta:
        verbose_name = _("invoice line")
        verbose_name_plural = _("invoice lines")
        ordering = ("pk",)

    def __str__(self) -> str:
        return self.description


# Payments received -------------------------------------------------------------------


class PaymentMethod(models.TextChoices):
    TRANSFER = "transfer", _("Bank transfer")
    CASH = "cash", _("Cash")
    CARD = "card", _("Card")
    CHEQUE = "cheque", _("Cheque")


class Cancellable(models.Model):
    """A payment that can be cancelled: when, why (its reversal entry is the model's own
    ``cancellation_entry``, named for it)."""

    cancelled_on = models.DateField(_("cancelled on"), null=True, blank=True, editable=False)
    cancellation_reason = models.CharField(
        _("reason for cancelling"), max_length=200, blank=True, editable=False
    )

    class Meta:
        abstract = True

    @property
    def is_cancelled(self) -> bool:
        return self.cancelled_on is not None


class Payment(OrganisationOwned, Cancellable):
    """Money received from a company; allocated to invoices, the rest stays as its credit."""

    company = models.ForeignKey(
        "members.Company",
        verbose_name=_("company"),
        on_delete=models.PROTECT,
        related_name="payments",
    )
    date = models.DateField(_("date"))
    amount = money_field(_("amount"))
    currency = models.CharField(_("currency"), max_length=3, default="MXN")
    method = models.CharField(
        _("method"), max_length=10, choices=PaymentMethod.choices, default=PaymentMethod.TRANSFER
    )
    bank_account = models.ForeignKey(
        Account,
        verbose_name=_("received into"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    allocated = money_field(_("allocated"), editable=False)
    # The company's classification when the payment was received (as paid); see Invoice.
    sector, chamber = classification_fields()
    entry = models.OneToOneField(
        JournalEntry,
        verbose_name=_("journal entry"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="payment",
    )
    notes = models.TextField(_("notes"), blank=True)
    # The reversal of ``entry``; the allocations' own entries are reversed alongside.
    cancellation_entry = models.OneToOneField(
        JournalEntry,
        verbose_name=_("cancellation entry"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="payment_cancelled",
    )

    class Meta:
        verbose_name = _("payment received")
        verbose_name_plural = _("payments received")
        ordering = ("-date", "-pk")
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="finance_payment_positive",
                violation_error_message=_("The amount must be above zero."),
            ),
            models.CheckConstraint(
                condition=Q(allocated__gte=0) & Q(allocated__lte=F("amount")),
                name="finance_payment_not_overallocated",
                violation_error_message=_("A payment cannot be allocated more than its amount."),
            ),
            models.CheckConstraint(
                condition=Q(cancelled_on__isnull=True) | Q(allocated=0),
                name="finance_payment_cancelled_unallocated",
                violation_error_message=_("A cancelled payment is allocated to nothing."),
            ),
        ]
        indexes = [
            # The payment-times report counts the payments of a period by company, sector
            # or chamber, and skips the cancelled ones, from the index alone.
            models.Index(
                fields=(
                    "organisation",
                    "date",
                    "company",
                    "amount",
                    "sector",
                    "chamber",
                    "cancelled_on",
                ),
                name="finance_payment_date",
            ),
            models.Index(fields=("company", "date"), name="finance_payment_company"),
        ]

    def __str__(self) -> str:
        return str(_("Payment {pk} · {company}")).format(pk=self.pk, company=self.company)

    def get_absolute_url(self) -> str:
        return _url(self, "payment_detail")

    @property
    def unallocated(self) -> Decimal:
        """The credit left to allocate (none once cancelled)."""
        return ZERO if self.cancelled_on else self.amount - self.allocated


class Allocation(OrganisationOwned):
    """Part of a payment applied to an invoice, on a date.

    Cancelling the payment keeps the row with ``cancelled_on``: an allocation
    is in effect on a day D when ``date <= D`` and it was not cancelled by D.
    """

    payment = models.ForeignKey(
        Payment, verbose_name=_("payment"), on_delete=models.PROTECT, related_name="allocations"
    )
    invoice = models.ForeignKey(
        Invoice, verbose_name=_("invoice"), on_delete=models.PROTECT, related_name="allocations"
    )
    date = models.DateField(_("date"))
    amount = money_field(_("amount"))
    # Set when a credit already received is applied later (advances → receivables).
    entry = models.OneToOneField(
        JournalEntry,
        verbose_name=_("journal entry"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="allocation",
    )
    cancelled_on = models.DateField(_("cancelled on"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("allocation")
        verbose_name_plural = _("allocations")
        ordering = ("date", "pk")
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="finance_allocation_positive",
                violation_error_message=_("The amount must be above zero."),
            )
        ]
        indexes = [models.Index(fields=("invoice", "date"), name="finance_allocation_invoice")]

    def __str__(self) -> str:
        return f"{self.payment_id} → {self.invoice_id}: {self.amount}"


# Supplier bills and payments made -----------------------------------------------------


class Bill(OrganisationOwned):
    """A supplier's bill; posting it records the expense (by pillar) and what is owed."""

    class State(models.TextChoices):
        DRAFT = "draft", pgettext_lazy("bill", "Draft")
        POSTED = "posted", pgettext_lazy("bill", "To pay")
        PAID = "paid", pgettext_lazy("bill", "Paid")
        CANCELLED = "cancelled", pgettext_lazy("bill", "Cancelled")

    supplier = models.ForeignKey(
        "members.Company",
        verbose_name=_("supplier"),
        on_delete=models.PROTECT,
        related_name="bills",
    )
    supplier_reference = models.CharField(_("supplier's invoice number"), max_length=60)
    date = models.DateField(_("date"))
    due_date = models.DateField(_("due date"), null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=3, default="MXN")
    state = models.CharField(
        _("state"), max_length=9, choices=State.choices, default=State.DRAFT, editable=False
    )
    subtotal = money_field(_("subtotal"), editable=False)
    vat = money_field(_("VAT"), editable=False)
    total = money_field(_("total"), editable=False)
    amount_paid = money_field(_("paid"), editable=False)
    closed_on = models.DateField(_("settled on"), null=True, blank=True, editable=False)
    entry = models.OneToOneField(
        JournalEntry,
        verbose_name=_("journal entry"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="bill",
    )
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("supplier bill")
        verbose_name_plural = _("supplier bills")
        ordering = ("-date", "-pk")
        constraints = [
            models.UniqueConstraint(
                fields=("organisation", "supplier", "supplier_reference"),
                name="%(app_label)s_%(class)s_unique_reference",
                violation_error_message=_("This supplier's bill is already recorded."),
            ),
            models.CheckConstraint(
                condition=Q(amount_paid__gte=0) & Q(amount_paid__lte=F("total")),
                name="finance_bill_not_overpaid",
                violation_error_message=_("A bill cannot be paid more than its total."),
            ),
        ]
        indexes = [
            models.Index(fields=("organisation", "state", "date"), name="finance_bill_state"),
        ]

    def __str__(self) -> str:
        return f"{self.supplier} · {self.supplier_reference}"

    def get_absolute_url(self) -> str:
        return _url(self, "bill_detail")

    @property
    def balance_due(self) -> Decimal:
        return self.total - self.amount_paid


class BillLine(OrganisationOwned):
    """A line of a supplier bill: the expense account, pillar, amount and VAT."""

    bill = models.ForeignKey(
        Bill, verbose_name=_("bill"), on_delete=models.CASCADE, related_name="lines"
    )
    description = models.CharField(_("description"), max_length=250)
    account = models.ForeignKey(
        Account, verbose_name=_("expense account"), on_delete=models.PROTECT, related_name="+"
    )
    pillar = models.ForeignKey(
        Pillar,
        verbose_name=_("strategic pillar"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    amount = models.DecimalField(
        _("amount before VAT"),
        max_digits=14,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    vat_rate = models.CharField(
        _("VAT"), max_length=6, choices=VatRate.choices, default=VatRate.STANDARD
    )
    vat = money_field(_("VAT"), editable=False)

    class Meta:
        verbose_name = _("bill line")
        verbose_name_plural = _("bill lines")
        ordering = ("pk",)

    def __str__(self) -> str:
        return self.description


class BillPayment(OrganisationOwned, Cancellable):
    """A payment made to a supplier against one bill."""

    bill = models.ForeignKey(
        Bill, verbose_name=_("bill"), on_delete=models.PROTECT, related_name="payments"
    )
    date = models.DateField(_("date"))
    amount = money_field(_("amount"))
    method = models.CharField(
        _("method"), max_length=10, choices=PaymentMethod.choices, default=PaymentMethod.TRANSFER
    )
    bank_account = models.ForeignKey(
        Account, verbose_name=_("paid from"), on_delete=models.PROTECT, related_name="+"
    )
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    entry = models.OneToOneField(
        JournalEntry,
        verbose_name=_("journal entry"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="bill_payment",
    )
    cancellation_entry = models.OneToOneField(
        JournalEntry,
        verbose_name=_("cancellation entry"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="bill_payment_cancelled",
    )

    class Meta:
        verbose_name = _("payment made")
        verbose_name_plural = _("payments made")
        ordering = ("-date", "-pk")
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="finance_billpayment_positive",
                violation_error_message=_("The amount must be above zero."),
            )
        ]

    def __str__(self) -> str:
        return str(_("Payment of {bill}")).format(bill=self.bill)

    def get_absolute_url(self) -> str:
        return _url(self, "billpayment_detail")


# Budgets ---------------------------------------------------------------------------------


class Budget(OrganisationOwned):
    """The amount planned for an account (and pillar) in a period."""

    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="budgets"
    )
    period = models.ForeignKey(
        Period, verbose_name=_("period"), on_delete=models.PROTECT, related_name="budgets"
    )
    pillar = models.ForeignKey(
        Pillar,
        verbose_name=_("strategic pillar"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    amount = models.DecimalField(
        _("amount"), max_digits=16, decimal_places=2, validators=[MinValueValidator(ZERO)]
    )

    class Meta:
        verbose_name = _("budget")
        verbose_name_plural = _("budgets")
        ordering = ("period", "account")
        constraints = [
            models.UniqueConstraint(
                fields=("account", "period"),
                condition=Q(pillar__isnull=True),
                name="finance_budget_unique_no_pillar",
                violation_error_message=_("This account already has a budget for this period."),
            ),
            models.UniqueConstraint(
                fields=("account", "period", "pillar"),
                condition=Q(pillar__isnull=False),
                name="finance_budget_unique_pillar",
                violation_error_message=_(
                    "This account already has a budget for this pillar and period."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account} {self.period}: {self.amount}"

    def get_absolute_url(self) -> str:
        return _url(self, "budget_detail")
