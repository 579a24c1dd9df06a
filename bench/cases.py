"""One benchmark run against the database named by DATABASE_URL (see run.py).

Each module adds a ``Group`` to ``GROUPS``: how to build its data in the
benchmark organisation (once; later runs reuse it) and which pages to time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ORG = "bench"  # the organisation every group fills and measures


def ensure_postgres_database(url: str) -> bool:
    import psycopg

    base, name = url.rsplit("/", 1)
    try:
        with psycopg.connect(f"{base}/postgres", autocommit=True, connect_timeout=3) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        print(f"postgres: not run — {exc.__class__.__name__}: {str(exc).strip().splitlines()[0]}")
        return False
    return True


def setup() -> Any:
    """The benchmark organisations and users; returns user0 (admin of ``bench``)."""
    from django.contrib.auth import get_user_model

    from gremio.core import services
    from gremio.core.changelog import change_context
    from gremio.core.models import Organisation

    with change_context(None, label="bench"):
        organisations = []
        for slug in (ORG, f"{ORG}-other"):
            org = Organisation.objects.filter(slug=slug).first() or services.organisation_create(
                name=f"Benchmark {slug}", slug=slug
            )
            organisations.append(org)
        User = get_user_model()
        for i in range(5):
            user, _ = User.objects.get_or_create(email=f"user{i}@bench.example")
            user.set_password("bench-pass-1")
            user.save()
            services.role_grant(organisation=organisations[0], user=user, role="admin")
    return User.objects.get(email="user0@bench.example")


# Core: the change log and the shell pages ---------------------------------------


def fill_changes(options: argparse.Namespace) -> str:
    from django.contrib.auth import get_user_model
    from django.contrib.contenttypes.models import ContentType

    from gremio.core.models import ObjectChange, Organisation, Pillar, RoleAssignment

    changes = options.changes
    rng = random.Random(2026)
    organisations = [Organisation.objects.get(slug=slug) for slug in (ORG, f"{ORG}-other")]
    users = list(
        get_user_model().objects.filter(email__endswith="@bench.example").order_by("email")
    )
    existing = ObjectChange.objects.count()
    if existing >= changes:
        return f"{existing:,} change-log rows"
    pillar_type = ContentType.objects.get_for_model(Pillar)
    role_type = ContentType.objects.get_for_model(RoleAssignment)
    pillar_ids = list(
        Pillar.objects.filter(organisation=organisations[0]).values_list("pk", flat=True)
    )
    start = dt.datetime(2022, 1, 1, tzinfo=dt.UTC)
    span = int((dt.datetime(2026, 12, 1, tzinfo=dt.UTC) - start).total_seconds())
    actions = ["create", "update", "update", "update", "delete"]
    batch = []
    print(f"  filling {changes - existing:,} change-log rows …", flush=True)
    for i in range(existing, changes):
        org = organisations[0] if rng.random() < 0.8 else organisations[1]
        user = rng.choice(users)
        is_pillar = rng.random() < 0.01
        batch.append(
            ObjectChange(
                organisation=org,
                time=start + dt.timedelta(seconds=rng.randrange(span)),
                user=user,
                user_name=user.email,
                action=rng.choice(actions),
                content_type=pillar_type if is_pillar else role_type,
                object_id=str(rng.choice(pillar_ids) if is_pillar else rng.randrange(1, 50_000)),
                object_repr=f"Record {i}",
                prechange_data={"name": f"old {i}"},
                postchange_data={"name": f"new {i}"},
            )
        )
        if len(batch) == 10_000:
            ObjectChange.objects.bulk_create(batch)
            batch = []
    if batch:
        ObjectChange.objects.bulk_create(batch)
    return f"{ObjectChange.objects.count():,} change-log rows"


def core_cases(options: argparse.Namespace) -> list[tuple[str, str]]:
    from django.contrib.auth import get_user_model

    from gremio.core.models import Pillar

    user = get_user_model().objects.get(email="user0@bench.example")
    pillar = Pillar.objects.filter(organisation__slug=ORG).order_by("pk").first()
    assert pillar is not None
    return [
        ("start page", f"/{ORG}/"),
        ("pillar list", f"/{ORG}/pillars/"),
        ("pillar history", f"/{ORG}/pillars/{pillar.pk}/history/"),
        ("change log, first page", f"/{ORG}/changes/"),
        ("change log, action=update", f"/{ORG}/changes/?action=update"),
        (
            "change log, user + year",
            f"/{ORG}/changes/?user={user.pk}&time_after=2025-01-01&time_before=2025-12-31",
        ),
        ("change log, page 200", f"/{ORG}/changes/?page=200"),
        ("change log, search", f"/{ORG}/changes/?q=Record%20424242"),
        ("API change log", f"/api/v1/{ORG}/changes/"),
        ("API change log, action=delete", f"/api/v1/{ORG}/changes/?action=delete"),
    ]


# Members: the demo data at the chosen scale ---------------------------------------


def fill_members(options: argparse.Namespace) -> str:
    """The members demo step itself, at ``--scale``, on the benchmark organisation."""
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from faker import Faker

    from gremio.core.changelog import change_context
    from gremio.core.demo import DemoContext
    from gremio.core.models import Organisation
    from gremio.members.demo import build_members
    from gremio.members.models import Company, Contact, Interaction, ServiceDelivery

    organisation = Organisation.objects.get(slug=ORG)
    if not Company.objects.filter(organisation=organisation).exists():
        # user0, who signs in for the measurements, plays the relations officer.
        User = get_user_model()
        roles = ("relations", "staff", "director", "admin", "viewer")
        users = {
            role: User.objects.get(email=f"user{i}@bench.example") for i, role in enumerate(roles)
        }
        fake = Faker("es_MX")
        fake.seed_instance(f"2026:{ORG}")
        context = DemoContext(
            organisation=organisation,
            scale=options.scale,
            rng=random.Random(f"2026:{ORG}"),
            fake=fake,
            users=users,
            log=lambda line: print(line, flush=True),
        )
        print(f"  filling members at scale {options.scale} …", flush=True)
        with transaction.atomic(), change_context(None, label="bench"):
            build_members(context)
    scoped = {"organisation": organisation}
    return (
        f"{Company.objects.filter(**scoped).count():,} companies, "
        f"{Contact.objects.filter(**scoped).count():,} contacts, "
        f"{ServiceDelivery.objects.filter(**scoped).count():,} services delivered, "
        f"{Interaction.objects.filter(**scoped).count():,} interactions"
    )


def members_cases(options: argparse.Namespace) -> list[tuple[str, str]]:
    from django.db.models import Count

    from gremio.members.models import (
        Chamber,
        Company,
        MembershipPlan,
        Sector,
        ServiceDelivery,
        Tag,
    )

    scoped = {"organisation__slug": ORG}
    plan = MembershipPlan.objects.filter(**scoped).order_by("-fee").values_list("pk", flat=True)[1]
    chamber = Chamber.objects.filter(**scoped).order_by("pk").values_list("pk", flat=True)[0]
    tag = Tag.objects.filter(**scoped, name="IMMEX").values_list("pk", flat=True)[0]
    manufacturing = Sector.objects.get(code="31-33").pk
    public_sector = Sector.objects.get(code="93").pk  # few companies: the worst case for scans
    # The most served company: the heaviest 360 page.
    busiest = (
        ServiceDelivery.objects.filter(**scoped)
        .values("company")
        .annotate(n=Count("pk"))
        .order_by("-n")
        .values_list("company", flat=True)[0]
    )
    company = Company.objects.filter(**scoped).order_by("pk").values_list("pk", flat=True)[500]
    today = dt.date.today()
    year_ago = today - dt.timedelta(days=365)
    base = f"/{ORG}/members"
    companies = f"{base}/companies/"
    return [
        ("companies, first page", companies),
        ("companies, status=active", f"{companies}?membership_status=active"),
        ("companies, status=grace", f"{companies}?membership_status=grace"),
        ("companies, plan", f"{companies}?plan={plan}"),
        ("companies, sector 31-33", f"{companies}?sector={manufacturing}"),
        ("companies, sector 93 (rare)", f"{companies}?sector={public_sector}"),
        ("companies, size=large", f"{companies}?size_band=large"),
        ("companies, chamber", f"{companies}?chamber={chamber}"),
        ("companies, state=NL", f"{companies}?state=19"),
        ("companies, state=ZAC (none)", f"{companies}?state=32"),
        ("companies, tag", f"{companies}?tags={tag}"),
        (
            "companies, served in 2025",
            f"{companies}?served_from=2025-01-01&served_to=2025-12-31&served=true",
        ),
        (
            "companies, not served in 2025",
            f"{companies}?served_from=2025-01-01&served_to=2025-12-31&served=false",
        ),
        ("companies, served last year", f"{companies}?served_from={year_ago}&served=true"),
        ("companies, search", f"{companies}?q=pl%C3%A1sticos"),
        ("companies, page 200", f"{companies}?page=200"),
        ("company 360, most served", f"{base}/companies/{busiest}/"),
        ("company 360, typical", f"{base}/companies/{company}/"),
        ("contacts, first page", f"{base}/contacts/"),
        ("contacts, of a company", f"{base}/contacts/?company={busiest}"),
        ("deliveries, first page", f"{base}/deliveries/"),
        ("deliveries, of a company", f"{base}/deliveries/?company={busiest}"),
        ("deliveries, one month", f"{base}/deliveries/?date_from=2025-03-01&date_to=2025-03-31"),
        ("interactions, first page", f"{base}/interactions/"),
        ("memberships, first page", f"{base}/memberships/"),
        ("renewals due", f"{base}/renewals/"),
        *members_report_cases(base, company, today),
    ]


def members_report_cases(base: str, company: int, today: dt.date) -> list[tuple[str, str]]:
    """The members reports over last year, each compared with the year before (as the page does)."""
    reports = f"{base}/reports"
    year = "preset=last_year"
    return [
        ("report services, by service", f"{reports}/services-delivered/?{year}&by=service"),
        ("report services, by sector", f"{reports}/services-delivered/?{year}&by=sector"),
        ("report services, by chamber", f"{reports}/services-delivered/?{year}&by=chamber"),
        ("report services, by month", f"{reports}/services-delivered/?{year}&by=month"),
        ("report members served, by chamber", f"{reports}/members-served/?{year}&by=chamber"),
        ("report members served, by sector", f"{reports}/members-served/?{year}&by=sector"),
        ("report members served, all", f"{reports}/members-served/?{year}"),
        ("report satisfaction", f"{reports}/satisfaction/?{year}"),
        ("report gained and lost, by month", f"{reports}/membership-movements/?{year}"),
        (
            "report gained and lost, by quarter",
            f"{reports}/membership-movements/?{year}&interval=quarter",
        ),
        ("report member statement", f"{base}/companies/{company}/statement/?{year}"),
    ]


# Finance: five years of books on the members data ------------------------------------


def fill_finance(options: argparse.Namespace) -> str:
    """The finance demo step at ``--scale`` (ccij: about 500,000 invoices and payments)."""
    from django.contrib.auth import get_user_model
    from faker import Faker

    from gremio.core.changelog import change_context
    from gremio.core.demo import DemoContext
    from gremio.core.models import Organisation
    from gremio.finance.demo import build_finance
    from gremio.finance.models import Bill, Invoice, JournalLine, Payment

    organisation = Organisation.objects.get(slug=ORG)
    if not Invoice.objects.filter(organisation=organisation).exists():
        User = get_user_model()
        fake = Faker("es_MX")
        fake.seed_instance(f"2026:{ORG}:finance")
        context = DemoContext(
            organisation=organisation,
            scale=options.scale,
            rng=random.Random(f"2026:{ORG}:finance"),
            fake=fake,
            users={"finance": User.objects.get(email="user0@bench.example")},
            log=lambda line: print(line, flush=True),
        )
        print(f"  filling finance at scale {options.scale} …", flush=True)
        with change_context(None, label="bench"):
            build_finance(context)
    scoped = {"organisation": organisation}
    return (
        f"{Invoice.objects.filter(**scoped).count():,} invoices, "
        f"{Payment.objects.filter(**scoped).count():,} payments, "
        f"{Bill.objects.filter(**scoped).count():,} bills, "
        f"{JournalLine.objects.filter(**scoped).count():,} journal lines"
    )


def finance_cases(options: argparse.Namespace) -> list[tuple[str, str]]:
    from django.db.models import Count

    from gremio.finance.models import Account, Invoice

    scoped = {"organisation__slug": ORG}
    busiest = (
        Invoice.objects.filter(**scoped)
        .values("company")
        .annotate(n=Count("pk"))
        .order_by("-n")
        .values_list("company", flat=True)[0]
    )
    invoice = Invoice.objects.filter(**scoped).order_by("pk").values_list("pk", flat=True)[1000]
    bank = Account.objects.filter(**scoped, code="1102").values_list("pk", flat=True)[0]
    today = dt.date.today()
    year = f"date_from={today.year - 1}-01-01&date_to={today.year - 1}-12-31"
    base = f"/{ORG}/finance"
    reports = f"{base}/reports"
    return [
        ("trial balance, last year", f"{reports}/trial-balance/?preset=last_year"),
        ("income statement, 12 months", f"{reports}/income-statement/?preset=last_12_months"),
        ("balance sheet", f"{reports}/balance-sheet/?preset=last_year"),
        ("income and outgoings", f"{reports}/income-and-outgoings/?preset=last_year"),
        ("receivables ageing, today", f"{reports}/receivables-ageing/"),
        (
            "receivables ageing, a year ago",
            f"{reports}/receivables-ageing/?as_of={today.year - 1}-{today.month:02d}-01",
        ),
        ("payment times, last year", f"{reports}/payment-times/?preset=last_year"),
        *(
            (f"payment times, by {by}", f"{reports}/payment-times/?preset=last_year&by={by}")
            for by in ("sector", "chamber", "month")
        ),
        ("budget vs actual, last year", f"{reports}/budget-vs-actual/?preset=last_year"),
        ("invoices, first page", f"{base}/invoices/"),
        ("invoices, overdue", f"{base}/invoices/?overdue=true"),
        ("invoices, of a company", f"{base}/invoices/?company={busiest}"),
        ("invoice, detail", f"{base}/invoices/{invoice}/"),
        ("API invoices, first page", f"/api/v1/{ORG}/finance/invoices/"),
        ("payments, first page", f"{base}/payments/"),
        ("journal entries, first page", f"{base}/entries/"),
        ("journal lines, bank, last year", f"{base}/lines/?account={bank}&{year}"),
        ("company 360 with invoices", f"/{ORG}/members/companies/{busiest}/"),
    ]


def finance_operations() -> None:
    """Write paths, timed inside transactions that are rolled back (the data stays as it is)."""
    from django.db import transaction

    from gremio.core.models import Organisation
    from gremio.finance import services
    from gremio.finance.billing import dues_invoice_batch
    from gremio.finance.models import Invoice, InvoiceLine, InvoiceSeries
    from gremio.finance.posting import finance_settings
    from gremio.members.models import Company, Membership, MembershipPlan

    organisation = Organisation.objects.get(slug=ORG)
    settings = finance_settings(organisation)
    companies = list(
        Company.objects.filter(organisation=organisation).values_list("pk", flat=True)[:60]
    )
    series = InvoiceSeries.objects.get(organisation=organisation, prefix="A")
    today = dt.date.today()
    times = []

    class Rollback(Exception):
        pass

    try:
        with transaction.atomic():
            for company_id in companies:
                invoice = services.invoice_save(
                    invoice=Invoice(
                        organisation=organisation,
                        series=series,
                        company_id=company_id,
                        date=today,
                        currency=organisation.currency,
                    ),
                    lines=[
                        InvoiceLine(
                            description="Curso",
                            account=settings.dues_income_account,
                            unit_price=Decimal("4500.00"),
                        )
                    ],
                )
                started = time.perf_counter()
                services.invoice_issue(invoice=invoice)
                times.append((time.perf_counter() - started) * 1000)
            raise Rollback
    except Rollback:
        pass
    times = sorted(times[10:])  # the first ones warm the caches
    print(
        f"{'issue one invoice':<34}{statistics.median(times):>10.1f}"
        f"{times[int(len(times) * 0.95)]:>10.1f}",
        flush=True,
    )
    try:
        with transaction.atomic():
            # Every current membership billed monthly: next month bills all of them.
            MembershipPlan.objects.filter(organisation=organisation).update(frequency="monthly")
            month = (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
            current = Membership.objects.filter(
                organisation=organisation, start__lte=month, end__gte=month
            ).count()
            started = time.perf_counter()
            result = dues_invoice_batch(organisation=organisation, month=month)
            elapsed = time.perf_counter() - started
            print(
                f"dues batch: {result.issued:,} invoices for {current:,} current memberships "
                f"in {elapsed:.1f} s",
                flush=True,
            )
            raise Rollback
    except Rollback:
        pass


@dataclass(frozen=True)
class Group:
    """One module's benchmark: build its data (returns a summary line), list its pages."""

    name: str
    fill: Callable[[argparse.Namespace], str]
    cases: Callable[[argparse.Namespace], list[tuple[str, str]]]


GROUPS: list[Group] = [
    Group("core", fill_changes, core_cases),
    Group("members", fill_members, members_cases),
    Group("finance", fill_finance, finance_cases),
]


def measure(client, url: str, repeat: int) -> tuple[float, float, int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # warm caches and connections
    times = []
    queries = 0
    status = 0
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        queries = len(ctx.captured_queries)
        status = response.status_code
    times.sort()
    p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
    return statistics.median(times), p95, queries, status


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("name", choices=["sqlite", "postgres"])
    parser.add_argument("changes", type=int)
    parser.add_argument("repeat", type=int)
    parser.add_argument("--scale", default="ccij", help="demo scale of the members data")
    parser.add_argument("--only", nargs="*", help="groups to run (default: all)")
    parser.add_argument("--rebuild", action="store_true")
    options = parser.parse_args()
    name = options.name
    url = os.environ["DATABASE_URL"]
    if name == "postgres" and not ensure_postgres_database(url):
        return
    if name == "sqlite":
        (ROOT / "var").mkdir(exist_ok=True)
        if options.rebuild:
            for suffix in ("", "-wal", "-shm"):
                Path(str(ROOT / "var" / "bench.sqlite3") + suffix).unlink(missing_ok=True)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    if name == "postgres" and options.rebuild:
        call_command("flush", interactive=False, verbosity=0)
    call_command("migrate", verbosity=0)
    user = setup()
    groups = [g for g in GROUPS if not options.only or g.name in options.only]
    print()
    for group in groups:
        started = time.perf_counter()
        summary = group.fill(options)
        print(f"{name}: {summary} (ready in {time.perf_counter() - started:.0f} s)", flush=True)
    if name == "postgres":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")

    client = Client()
    client.force_login(user)
    print(f"{'case':<34}{'median ms':>10}{'p95 ms':>10}{'queries':>9}{'status':>8}")
    for group in groups:
        for label, path in group.cases(options):
            median, p95, queries, status = measure(client, path, options.repeat)
            print(f"{label:<34}{median:>10.1f}{p95:>10.1f}{queries:>9}{status:>8}", flush=True)
    if any(group.name == "finance" for group in groups):
        finance_operations()


if __name__ == "__main__":
    main()
