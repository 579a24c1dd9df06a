"""Finance demo data: the books of the demo organisation, posted through the ledger.

A step of ``python manage.py demo`` after the members step. Dues invoices
follow the demo memberships' billing intervals, service invoices the
services delivered; members pay with a realistic spread of delays (most
within a month, some late, a few never), some in two parts, some leaving a
credit; suppliers' bills and the monthly payroll make the outgoings. Every
entry goes through ``posting.entries_post`` in chunks, so the maintained
balances, the gapless numbers and the triggers are the real ones; documents
are written with ``bulk_create`` and, as in the members step, without
change-log rows (a demo load is nobody's change).

Scales: ``small`` two fiscal years; ``medium`` and ``ccij`` five, with
``ccij`` at about 500,000 invoices, 500,000 payments and 3,000,000 journal
lines. An organisation that already has invoices is left as it is.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from gremio.core.demo import DemoContext, register
from gremio.core.models import Organisation, Pillar
from gremio.core.money import round_money
from gremio.core.reports import add_months, month_end
from gremio.members.models import Company, Membership, ServiceDelivery

from .billing import INVOICE_LINE_COLUMNS, MONTHS, intervals_starting_in
from .classification import classifications
from .models import (
    Account,
    AccountBalance,
    Allocation,
    Bill,
    BillLine,
    BillPayment,
    Budget,
    EntryKind,
    FinanceSettings,
    Invoice,
    InvoiceLine,
    InvoiceSeries,
    JournalEntry,
    JournalLine,
    Payment,
    Period,
    VatRate,
)
from .posting import EntrySpec, Line, entries_post, finance_settings, insert_rows, next_numbers
from .setup import fiscal_year_start, fiscal_years_ensure


@dataclass(frozen=True)
class Size:
    years: int
    invoices: int  # about: dues follow the memberships, services fill up to this
    bills_per_month: int


SIZES = {
    "small": Size(2, 1_500, 12),
    "medium": Size(5, 40_000, 60),
    "ccij": Size(5, 500_000, 300),
}
CHUNK = 2_000
ZERO = Decimal(0)
CENT = Decimal("0.01")
ONE = Decimal(1)

# Days from invoice to payment: (share, low, high).
DELAYS = ((0.36, 0, 15), (0.30, 16, 40), (0.17, 41, 75), (0.10, 76, 120), (0.07, 121, 300))
NEVER_PAID = 0.04
TWO_PAYMENTS = 0.08
OVERPAID = 0.03
METHODS = ("transfer", "transfer", "transfer", "transfer", "card", "cheque", "cash")

# Service invoices: (income account, description, low, high amount before VAT).
SERVICE_LINES = (
    ("4102", "Asesoría y trámites", 1_500, 18_000),
    ("4103", "Curso de capacitación", 2_500, 12_000),
    ("4103", "Inscripción a foro empresarial", 1_200, 4_500),
    ("4104", "Patrocinio de evento", 25_000, 150_000),
    ("4102", "Certificado de origen", 450, 900),
)
# Supplier bills: (expense account, description, low, high, VAT rate, with a pillar).
BILL_LINES = (
    ("5103", "Arrendamiento de oficinas", 38_000, 38_000, "16", False),
    ("5104", "Energía eléctrica y telefonía", 6_000, 14_000, "16", False),
    ("5105", "Honorarios de auditoría y asesoría legal", 12_000, 45_000, "16", False),
    ("5106", "Papelería y consumibles", 800, 6_000, "16", False),
    ("5107", "Mantenimiento de instalaciones", 2_500, 18_000, "16", False),
    ("5201", "Renta de salón y alimentos para foro", 20_000, 120_000, "16", True),
    ("5202", "Viáticos de representación", 3_000, 25_000, "16", True),
    ("5203", "Campaña en medios y diseño", 8_000, 60_000, "16", True),
    ("5204", "Estudio sectorial", 40_000, 180_000, "16", True),
    ("5205", "Instructores de capacitación", 6_000, 35_000, "16", True),
    ("5206", "Cuota anual a confederación", 15_000, 60_000, "exempt", False),
)


@dataclass
class InvoicePlan:
    company_id: int
    date: dt.date
    lines: list[tuple[str, str, Decimal, str, int | None]]  # account, text, amount, vat, pillar
    membership_id: int | None = None
    billed: tuple[dt.date, dt.date] | None = None
    payments: list[tuple[dt.date, Decimal]] = field(default_factory=list)
    invoice: Invoice | None = None
    subtotal: Decimal = ZERO
    vat: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return self.subtotal + self.vat


@register(order=200, name="finance")
def build_finance(ctx: DemoContext) -> None:
    """Fiscal years, invoices, payments, bills, payroll and budgets."""
    organisation = ctx.organisation
    if Invoice.objects.filter(organisation=organisation).exists():
        ctx.log("  finance: the organisation already has invoices; left as they are")
        return
    started = time.perf_counter()
    books = _Books(ctx, SIZES[ctx.scale])
    books.opening()
    plans = books.plan_invoices()
    books.post_invoices(plans)
    ctx.log(f"  finance: {len(plans):,} invoices ({time.perf_counter() - started:.0f} s)")
    payments = books.post_payments(plans)
    ctx.log(f"  finance: {payments:,} payments ({time.perf_counter() - started:.0f} s)")
    bills = books.post_bills()
    books.post_payroll()
    books.budgets()
    books.close_old_periods()
    analyze()
    lines = JournalLine.objects.filter(organisation=organisation).count()
    ctx.log(
        f"  finance: {bills:,} supplier bills, {lines:,} journal lines "
        f"({time.perf_counter() - started:.0f} s)"
    )


def analyze() -> None:
    """Planner statistics after the bulk load (see members.demo.analyze)."""
    with connection.cursor() as cursor:
        for model in (JournalEntry, JournalLine, AccountBalance, Invoice, Payment, Allocation):
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def chunks(items: list[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class _Books:
    def __init__(self, ctx: DemoContext, size: Size) -> None:
        self.ctx = ctx
        self.org: Organisation = ctx.organisation
        self.rng: random.Random = ctx.rng
        self.size = size
        self.settings: FinanceSettings = finance_settings(self.org)
        self.today = timezone.localdate()
        first_year = fiscal_year_start(self.org, self.today).year - (size.years - 1)
        self.first = dt.date(first_year, self.org.fiscal_year_start_month, 1)
        fiscal_years_ensure(
            organisation=self.org, first=self.first, last=self.today + dt.timedelta(days=62)
        )
        self.accounts = {a.code: a for a in Account.objects.filter(organisation=self.org)}
        self.pillars = list(
            Pillar.objects.filter(organisation=self.org, active=True).values_list("pk", flat=True)
        )
        self.series = InvoiceSeries.objects.get(organisation=self.org, prefix="A")
        self.user = ctx.users.get("finance")
        self.delay_cum = [sum(d[0] for d in DELAYS[: i + 1]) for i in range(len(DELAYS))]
        self.monthly_income = ZERO
        # Each company's sector group and chamber, which its invoices and payments keep.
        self.classified = classifications(Company.objects.filter(organisation=self.org))

    def post(self, specs: list[EntrySpec]) -> list[JournalEntry]:
        entries: list[JournalEntry] = []
        for chunk in chunks(specs):
            with transaction.atomic():
                entries += entries_post(
                    organisation=self.org, specs=chunk, user=self.user, log=False
                )
        return entries

    def money(self, low: float, high: float) -> Decimal:
        value = Decimal(str(round(self.rng.uniform(low, high), -1 if high > 1000 else 0)))
        return round_money(value, self.org.currency)

    # Opening -----------------------------------------------------------------------

    def opening(self) -> None:
        amount = Decimal(500_000 if self.ctx.scale == "small" else 8_000_000)
        self.post(
            [
                EntrySpec(
                    date=self.first,
                    memo="Saldos iniciales",
                    lines=[
                        Line(account=self.settings.bank_account, debit=amount),
                        Line(account=self.accounts["3101"], credit=amount),
                    ],
                )
            ]
        )

    # Invoices ----------------------------------------------------------------------

    def plan_invoices(self) -> list[InvoicePlan]:
        rng, plans = self.rng, []
        vat = self.settings.dues_vat_rate
        income = self.settings.dues_income_account.code
        memberships = (
            Membership.objects.filter(organisation=self.org, end__gte=self.first)
            .select_related("plan")
            .order_by("pk")
        )
        for membership in memberships.iterator(chunk_size=5000):
            months = MONTHS.get(membership.plan.frequency, 12)
            fee = membership.fee if membership.fee is not None else membership.plan.fee
            amount = round_money(fee * months / 12, self.org.currency)
            last = min(self.today, membership.resigned_on or self.today)
            for start, end in intervals_starting_in(membership, months, self.first, last):
                text = (
                    f"Cuota de afiliación {membership.plan.name}, {start:%d/%m/%Y} a {end:%d/%m/%Y}"
                )
                plans.append(
                    InvoicePlan(
                        company_id=membership.company_id,
                        date=start,
                        lines=[(income, text, amount, vat, None)],
                        membership_id=membership.pk,
                        billed=(start, end),
                    )
                )
        target = max(self.size.invoices - len(plans), self.size.invoices // 5)
        if len(plans) > self.size.invoices * 0.8:
            rng.shuffle(plans)
            plans = plans[: int(self.size.invoices * 0.8)]
            target = self.size.invoices - len(plans)
        plans += self._service_plans(target)
        plans.sort(key=lambda p: (p.date, p.company_id))
        for plan in plans:
            plan.subtotal = sum((line[2] for line in plan.lines), ZERO)
            plan.vat = sum(
                (
                    round_money(line[2] * VatRate.rate(line[3]), self.org.currency)
                    for line in plan.lines
                ),
                ZERO,
            )
            self._plan_payments(plan)
        days = max((self.today - self.first).days, 1)
        self.monthly_income = sum((p.subtotal for p in plans), ZERO) / Decimal(days / 30.4)
        return plans

    def _service_plans(self, count: int) -> Iterator[InvoicePlan]:
        """Service invoices for the services delivered (most members are served rarely)."""
        rng = self.rng
        deliveries: list[tuple[int, dt.date, int | None]] = list(
            ServiceDelivery.objects.filter(organisation=self.org, date__gte=self.first)
            .order_by("pk")
            .values_list("company_id", "date", "service__pillar_id")[: count * 3]
        )
        if not deliveries:
            companies = list(
                Company.objects.filter(organisation=self.org).values_list("pk", flat=True)
            )
            days = (self.today - self.first).days
            deliveries = [
                (
                    rng.choice(companies),
                    self.first + dt.timedelta(days=rng.randrange(days)),
                    None,
                )
                for _ in range(count)
            ]
        rng.shuffle(deliveries)
        for company_id, date, pillar_id in deliveries[:count]:
            code, text, low, high = rng.choices(SERVICE_LINES, weights=(30, 30, 25, 3, 12))[0]
            amount = self.money(low, high)
            yield InvoicePlan(
                company_id=company_id,
                date=date,
                lines=[(code, text, amount, "16", pillar_id or rng.choice(self.pillars))],
            )

    def _plan_payments(self, plan: InvoicePlan) -> None:
        rng = self.rng
        if rng.random() < NEVER_PAID:
            return
        _share, low, high = DELAYS[bisect_right(self.delay_cum, rng.random() * self.delay_cum[-1])]
        paid_on = plan.date + dt.timedelta(days=rng.randint(low, high))
        if paid_on > self.today:
            return
        total = plan.total
        if rng.random() < TWO_PAYMENTS and total > 1000:
            first = round_money(total / 2, self.org.currency)
            first_on = plan.date + dt.timedelta(
                days=rng.randint(0, max((paid_on - plan.date).days, 0))
            )
            plan.payments = [(first_on, first), (paid_on, total - first)]
        else:
            plan.payments = [(paid_on, total)]

    def post_invoices(self, plans: list[InvoicePlan]) -> None:
        settings, org, accounts = self.settings, self.org, self.accounts
        language = Invoice.Language.ES if org.language.startswith("es") else Invoice.Language.EN
        terms = dt.timedelta(days=settings.payment_terms_days)
        for chunk in chunks(plans):
            with transaction.atomic():
                first_number = next_numbers(
                    organisation=org, key=f"invoice:{self.series.pk}", count=len(chunk)
                )
                specs, invoices, lines = [], [], []
                for offset, plan in enumerate(chunk):
                    number = first_number + offset
                    paid = sum((amount for _d, amount in plan.payments), ZERO)
                    closed_on = plan.payments[-1][0] if plan.payments else None
                    sector_id, chamber_id = self.classified[plan.company_id]
                    invoice = Invoice(
                        organisation=org,
                        series=self.series,
                        number=number,
                        company_id=plan.company_id,
                        sector_id=sector_id,
                        chamber_id=chamber_id,
                        date=plan.date,
                        due_date=plan.date + terms,
                        currency=org.currency,
                        language=language,
                        state=Invoice.State.PAID if closed_on else Invoice.State.ISSUED,
                        subtotal=plan.subtotal,
                        vat=plan.vat,
                        total=plan.total,
                        amount_paid=paid,
                        closed_on=closed_on,
                        days_to_pay=(closed_on - plan.date).days if closed_on else None,
                        membership_id=plan.membership_id,
                        billed_from=plan.billed[0] if plan.billed else None,
                        billed_to=plan.billed[1] if plan.billed else None,
                    )
                    plan.invoice = invoice
                    invoices.append(invoice)
                    entry_lines = [Line(account=settings.receivable_account, debit=plan.total)]
                    for code, text, amount, vat_rate, pillar_id in plan.lines:
                        entry_lines.append(
                            Line(account=accounts[code], credit=amount, pillar_id=pillar_id)
                        )
                        vat = round_money(amount * VatRate.rate(vat_rate), org.currency)
                        line = (text[:250], accounts[code].pk, pillar_id, amount, vat_rate, vat)
                        lines.append((invoice, line))
                    if plan.vat:
                        entry_lines.append(
                            Line(account=settings.vat_output_account, credit=plan.vat)
                        )
                    specs.append(
                        EntrySpec(
                            date=plan.date,
                            memo=f"Factura A-{number}",
                            lines=entry_lines,
                            company_id=plan.company_id,
                            source="invoice",
                        )
                    )
                entries = entries_post(organisation=org, specs=specs, user=self.user, log=False)
                for invoice, entry in zip(invoices, entries, strict=True):
                    invoice.entry = entry
                Invoice.objects.bulk_create(invoices, batch_size=500)
                insert_rows(
                    InvoiceLine,
                    (*INVOICE_LINE_COLUMNS, "pillar"),
                    [
                        (
                            org.pk,
                            invoice.pk,
                            text,
                            account_id,
                            ONE,
                            amount,
                            rate,
                            amount,
                            vat,
                            pillar,
                        )
                        for invoice, (text, account_id, pillar, amount, rate, vat) in lines
                    ],
                )

    # Payments ----------------------------------------------------------------------

    def post_payments(self, plans: list[InvoicePlan]) -> int:
        rng, org, settings = self.rng, self.org, self.settings
        received = []
        for plan in plans:
            for date, amount in plan.payments:
                received.append((date, plan, amount))
        received.sort(key=lambda item: (item[0], item[1].company_id))
        count = 0
        for chunk in chunks(received):
            with transaction.atomic():
                specs, payments, allocations = [], [], []
                for date, plan, allocated in chunk:
                    extra = ZERO
                    if rng.random() < OVERPAID:
                        extra = (
                            Decimal(100) - (allocated % 100) if allocated % 100 else Decimal(100)
                        )
                    amount = allocated + extra
                    lines = [
                        Line(account=settings.bank_account, debit=amount),
                        Line(account=settings.receivable_account, credit=allocated),
                    ]
                    if extra:
                        lines.append(Line(account=settings.customer_advance_account, credit=extra))
                    assert plan.invoice is not None
                    specs.append(
                        EntrySpec(
                            date=date,
                            memo=f"Cobro factura A-{plan.invoice.number}",
                            lines=lines,
                            kind=EntryKind.INCOME,
                            company_id=plan.company_id,
                            source="payment",
                        )
                    )
                    sector_id, chamber_id = self.classified[plan.company_id]
                    payment = Payment(
                        organisation=org,
                        company_id=plan.company_id,
                        sector_id=sector_id,
                        chamber_id=chamber_id,
                        date=date,
                        amount=amount,
                        currency=org.currency,
                        method=rng.choice(METHODS),
                        bank_account=settings.bank_account,
                        reference=f"REF{rng.randrange(10**9):09d}",
                        allocated=allocated,
                    )
                    payments.append(payment)
                    allocations.append(
                        Allocation(
                            organisation=org,
                            payment=payment,
                            invoice=plan.invoice,
                            date=date,
                            amount=allocated,
                        )
                    )
                entries = entries_post(organisation=org, specs=specs, user=self.user, log=False)
                for payment, entry in zip(payments, entries, strict=True):
                    payment.entry = entry
                Payment.objects.bulk_create(payments, batch_size=500)
                for allocation in allocations:
                    allocation.payment_id = allocation.payment.pk
                Allocation.objects.bulk_create(allocations, batch_size=1000)
                count += len(payments)
        return count

    # Bills and payroll ---------------------------------------------------------------

    def months(self) -> Iterator[dt.date]:
        month = self.first
        while month <= self.today:
            yield month
            month = add_months(month, 1)

    def post_bills(self) -> int:
        rng, org, settings, accounts = self.rng, self.org, self.settings, self.accounts
        suppliers = list(
            Company.objects.filter(organisation=org, is_supplier=True).values_list("pk", flat=True)
        ) or list(Company.objects.filter(organisation=org).values_list("pk", flat=True)[:50])
        plans = []
        references: set[tuple[int, str]] = set()
        for month in self.months():
            last_day = min(month_end(month), self.today)
            for index in range(self.size.bills_per_month):
                code, text, low, high, vat_rate, with_pillar = (
                    BILL_LINES[index] if index < len(BILL_LINES) else rng.choice(BILL_LINES[3:])
                )
                date = month + dt.timedelta(days=rng.randrange((last_day - month).days + 1))
                supplier = suppliers[(index * 7919 + month.month) % len(suppliers)]
                reference = f"{rng.choice('ABCFG')}{rng.randrange(1, 99999)}"
                while (supplier, reference) in references:
                    reference += "1"
                references.add((supplier, reference))
                amount = self.money(low, high)
                pillar = rng.choice(self.pillars) if with_pillar and self.pillars else None
                plans.append((date, supplier, reference, code, text, amount, vat_rate, pillar))
        # Suppliers take about 40 % of what the members are billed, whatever the scale.
        months = max(len(list(self.months())), 1)
        planned = sum((plan[5] for plan in plans), ZERO) or Decimal(1)
        factor = self.monthly_income * months * Decimal("0.40") / planned
        plans = [
            (*plan[:5], max(round_money(plan[5] * factor, org.currency), CENT), *plan[6:])
            for plan in plans
        ]
        plans.sort()
        terms = dt.timedelta(days=settings.payment_terms_days)
        count = 0
        for chunk in chunks(plans):
            with transaction.atomic():
                specs, bills, lines, pay_specs, paid = [], [], [], [], []
                for date, supplier, reference, code, text, amount, vat_rate, pillar in chunk:
                    vat = round_money(amount * VatRate.rate(vat_rate), org.currency)
                    pay_on = date + dt.timedelta(days=rng.randint(3, 45))
                    bill = Bill(
                        organisation=org,
                        supplier_id=supplier,
                        supplier_reference=reference,
                        date=date,
                        due_date=date + terms,
                        currency=org.currency,
                        state=Bill.State.POSTED,
                        subtotal=amount,
                        vat=vat,
                        total=amount + vat,
                    )
                    entry_lines = [Line(account=accounts[code], debit=amount, pillar_id=pillar)]
                    if vat:
                        entry_lines.append(Line(account=settings.vat_input_account, debit=vat))
                    entry_lines.append(Line(account=settings.payable_account, credit=amount + vat))
                    specs.append(
                        EntrySpec(
                            date=date,
                            memo=f"Factura de proveedor {reference}",
                            lines=entry_lines,
                            company_id=supplier,
                            source="bill",
                        )
                    )
                    lines.append(
                        BillLine(
                            organisation=org,
                            bill=bill,
                            description=text,
                            account=accounts[code],
                            pillar_id=pillar,
                            amount=amount,
                            vat_rate=vat_rate,
                            vat=vat,
                        )
                    )
                    bills.append(bill)
                    if pay_on <= self.today:
                        bill.state, bill.amount_paid, bill.closed_on = (
                            Bill.State.PAID,
                            amount + vat,
                            pay_on,
                        )
                        pay_specs.append(
                            EntrySpec(
                                date=pay_on,
                                memo=f"Pago factura de proveedor {reference}",
                                lines=[
                                    Line(account=settings.payable_account, debit=amount + vat),
                                    Line(account=settings.bank_account, credit=amount + vat),
                                ],
                                kind=EntryKind.EXPENSE,
                                company_id=supplier,
                                source="bill_payment",
                            )
                        )
                        paid.append(bill)
                entries = entries_post(organisation=org, specs=specs, user=self.user, log=False)
                for bill, entry in zip(bills, entries, strict=True):
                    bill.entry = entry
                Bill.objects.bulk_create(bills, batch_size=500)
                for line in lines:
                    line.bill_id = line.bill.pk
                BillLine.objects.bulk_create(lines, batch_size=1000)
                pay_entries = entries_post(
                    organisation=org, specs=pay_specs, user=self.user, log=False
                )
                BillPayment.objects.bulk_create(
                    [
                        BillPayment(
                            organisation=org,
                            bill=bill,
                            date=entry.date,
                            amount=bill.total,
                            method="transfer",
                            bank_account=settings.bank_account,
                            entry=entry,
                        )
                        for bill, entry in zip(paid, pay_entries, strict=True)
                    ],
                    batch_size=500,
                )
                count += len(bills)
        return count

    def post_payroll(self) -> None:
        """Monthly payroll (about 40 % of dues income) and the taxes withheld paid next month."""
        accounts, bank = self.accounts, self.settings.bank_account
        gross = round_money(self.monthly_income * Decimal("0.40"), self.org.currency)
        specs = []
        for month in self.months():
            payday = min(month_end(month), self.today)
            social = round_money(gross * Decimal("0.12"), self.org.currency)
            withheld = round_money(gross * Decimal("0.15"), self.org.currency)
            specs.append(
                EntrySpec(
                    date=payday,
                    memo=f"Nómina {month:%m/%Y}",
                    lines=[
                        Line(account=accounts["5101"], debit=gross),
                        Line(account=accounts["5102"], debit=social),
                        Line(account=bank, credit=gross - withheld + social),
                        Line(account=accounts["2116"], credit=withheld),
                    ],
                    kind=EntryKind.EXPENSE,
                )
            )
            pay_day = add_months(month, 1).replace(day=17)
            if pay_day <= self.today:
                specs.append(
                    EntrySpec(
                        date=pay_day,
                        memo=f"Entero de retenciones {month:%m/%Y}",
                        lines=[
                            Line(account=accounts["2116"], debit=withheld),
                            Line(account=bank, credit=withheld),
                        ],
                        kind=EntryKind.EXPENSE,
                    )
                )
        specs.sort(key=lambda spec: spec.date)
        self.post(specs)

    # Budgets and closing -----------------------------------------------------------------

    def budgets(self) -> None:
        """This and last fiscal year's monthly budgets: last year's actuals, give or take."""
        rng = self.rng
        start = add_months(fiscal_year_start(self.org, self.today), -12)
        periods = list(Period.objects.filter(organisation=self.org, start__gte=start))
        actual: dict[tuple[int, int], Decimal] = {}
        for row in AccountBalance.objects.filter(
            organisation=self.org, account__type__in=("income", "expense")
        ).values("account_id", "account__type", "period__number", "debit", "credit"):
            key = (row["account_id"], row["period__number"])
            signed = row["debit"] - row["credit"]
            if row["account__type"] == "income":
                signed = -signed
            actual[key] = actual.get(key, ZERO) + signed
        rows = []
        for period in periods:
            for (account_id, number), amount in actual.items():
                if number != period.number or amount <= 0:
                    continue
                factor = Decimal(str(round(rng.uniform(0.85, 1.15), 2)))
                rows.append(
                    Budget(
                        organisation=self.org,
                        account_id=account_id,
                        period=period,
                        amount=round_money(amount / self.size.years * factor, self.org.currency),
                    )
                )
        Budget.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)

    def close_old_periods(self) -> None:
        """Periods before last month are closed, as a finance officer would have done."""
        before = add_months(self.today.replace(day=1), -1)
        Period.objects.filter(organisation=self.org, end__lt=before).update(status="closed")
