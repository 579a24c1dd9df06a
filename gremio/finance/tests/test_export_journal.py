"""The journal export, read back by the real hledger (and Ledger when installed)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
import shutil
import subprocess
import sys
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Sum

from gremio.core.models import Organisation
from gremio.core.tests.factories import PillarFactory
from gremio.finance import services
from gremio.finance.ledger_export import account_name, clean_component, clean_text
from gremio.finance.models import Account, AccountBalance, Invoice, InvoiceLine, InvoiceSeries
from gremio.finance.posting import Line, finance_settings
from gremio.finance.verify import ledger_differences
from gremio.members.tests.factories import CompanyFactory

from .factories import account, books, draft_bill

pytestmark = pytest.mark.django_db

HLEDGER = shutil.which("hledger") or "/usr/bin/hledger"
LEDGER = "/usr/bin/ledger"


def hledger_available() -> bool:
    if os.path.exists(HLEDGER):
        return True
    if os.environ.get("REQUIRE_HLEDGER") == "1":
        pytest.fail(f"hledger is required (REQUIRE_HLEDGER=1) but {HLEDGER} is missing")
    return False


def invoice(org: Organisation, company, date: dt.date, lines) -> Invoice:
    """Issue an invoice of ``(account, price, VAT rate, pillar)`` lines."""
    draft = Invoice(
        organisation=org,
        series=InvoiceSeries.objects.get(organisation=org, prefix="A"),
        company=company,
        date=date,
        currency=org.currency,
    )
    services.invoice_save(
        invoice=draft,
        lines=[
            InvoiceLine(
                description="Cuota", account=acc, unit_price=Decimal(price), vat_rate=rate, pillar=p
            )
            for acc, price, rate, p in lines
        ],
    )
    return services.invoice_issue(invoice=draft)


def sample_books() -> Organisation:
    """Two fiscal years of everything that posts, with names that test the format."""
    org = books(first=dt.date(2025, 1, 1), last=dt.date(2026, 12, 31))
    social = PillarFactory.create(
        organisation=org, name_es="Valor social; de la industria", name_en="Social value"
    )
    local = PillarFactory.create(
        organisation=org, name_es="Contenido nacional, proveeduría: local", name_en="Local"
    )
    odd = Account.objects.create(
        organisation=org,
        code="4199",
        name="Otros:  ingresos;\tvarios ",
        type="income",
        parent=account(org, "4000"),
    )
    company = CompanyFactory.create(organisation=org, trade_name="Aceros; del  Bajío\nNorte ")
    dues, services_income = finance_settings(org).dues_income_account, account(org, "4102")

    first = invoice(
        org,
        company,
        dt.date(2025, 11, 10),
        [
            (dues, "1000.00", "16", social),
            (services_income, "500.00", "0", local),
            (odd, "300.00", "exempt", None),
        ],
    )
    payment = services.payment_receive(
        organisation=org,
        company=company,
        date=dt.date(2025, 12, 5),
        amount=Decimal("2000.00"),
        allocations=[(first, Decimal("1000.00"))],
    )
    second = invoice(org, company, dt.date(2026, 1, 15), [(dues, "1000.00", "16", social)])
    services.payment_allocate(
        payment=payment, invoice=second, amount=Decimal("1000.00"), date=dt.date(2026, 1, 20)
    )
    third = invoice(org, company, dt.date(2026, 2, 1), [(dues, "250.00", "16", None)])
    services.invoice_cancel(invoice=third, date=dt.date(2026, 2, 10))
    bill = services.bill_post(
        bill=draft_bill(org, date=dt.date(2026, 2, 5), amount="500.00", pillar=social)
    )
    services.bill_pay(bill=bill, date=dt.date(2026, 2, 20), amount=Decimal("580.00"))
    manual = services.entry_post(
        organisation=org,
        date=dt.date(2026, 3, 1),
        memo="  Ajuste; con\nsalto  de línea ",
        lines=[
            Line(account=account(org, "1101"), debit=Decimal("75.50")),
            Line(account=account(org, "3101"), credit=Decimal("75.50")),
        ],
    )
    services.entry_reverse(entry=manual, date=dt.date(2026, 3, 2))
    services.entry_post(
        organisation=org,
        date=dt.date(2026, 3, 3),
        memo="Depósito",
        lines=[
            Line(account=account(org, "1102"), debit=Decimal("1234567.89")),
            Line(account=account(org, "3101"), credit=Decimal("1234567.89")),
        ],
    )
    assert ledger_differences(org) == []
    return org


def export(org: Organisation, path: Path, *args: str, language: str = "en") -> str:
    out = io.StringIO()
    call_command(
        "export_journal",
        "--org",
        org.slug,
        "--output",
        str(path),
        *args,
        "--language",
        language,
        stdout=out,
    )
    return out.getvalue()


def trial_balance(org: Organisation) -> dict[str, Decimal]:
    """Debit minus credit per account code, from the maintained balances, without zeros."""
    rows = (
        AccountBalance.objects.filter(organisation=org)
        .values("account__code")
        .annotate(debit=Sum("debit"), credit=Sum("credit"))
        .order_by()
    )
    balances = {row["account__code"]: row["debit"] - row["credit"] for row in rows}
    return {code: amount for code, amount in balances.items() if amount}


def amount(text: str) -> Decimal:
    return Decimal(re.sub(r"[^0-9.\-]", "", text))


def code_of(name: str) -> str:
    return name.split(":", 1)[1].split(" ", 1)[0]


@pytest.fixture
def journal(tmp_path: Path) -> tuple[Organisation, Path]:
    org = sample_books()
    path = tmp_path / "books.journal"
    message = export(org, path)
    assert "entries" in message and str(path) in message
    return org, path


def test_a_missing_hledger_fails_the_suite_only_when_required(monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "HLEDGER", "/nonexistent/hledger")
    monkeypatch.setenv("REQUIRE_HLEDGER", "1")
    with pytest.raises(pytest.fail.Exception, match="REQUIRE_HLEDGER=1"):
        hledger_available()
    monkeypatch.delenv("REQUIRE_HLEDGER")
    assert hledger_available() is False


def test_the_writer_cleans_what_would_break_the_format():
    assert clean_text("  Pago;\tde\nAceros  del Bajío ") == "Pago, de Aceros del Bajío"
    assert clean_component("Otros:  ingresos") == "Otros ingresos"
    odd = Account(code="4199", name="Otros:  ingresos;  varios", type="income")
    assert account_name(odd) == "Income:4199 Otros ingresos, varios"
    assert account_name(Account(code="2101", name="Proveedores", type="liability")) == (
        "Liabilities:2101 Proveedores"
    )


def test_the_journal_lists_posted_entries_in_date_order(journal):
    _org, path = journal
    text = path.read_text(encoding="utf-8")
    assert "commodity MXN" in text
    assert "account Income:4199 Otros ingresos, varios" in text
    headers = [line for line in text.splitlines() if re.match(r"\d{4}-\d\d-\d\d ", line)]
    dates = [line[:10] for line in headers]
    assert dates == sorted(dates)
    assert len(headers) == 11
    assert headers[0].startswith(
        "2025-11-10 * (D-2025-000001) Invoice A-1 · Aceros, del Bajío Norte"
    )
    assert "2026-03-01 * (D-2026-000006) Ajuste, con salto de línea" in headers
    assert "    Assets:1102 Bancos nacionales" in text
    assert re.search(
        r"Income:4101 Cuotas de afiliación +-1000\.00 MXN  ; pillar: Social value", text
    )
    assert "1234567.89 MXN" in text


def test_hledger_accepts_the_journal_and_agrees_with_the_trial_balance(journal):
    if not hledger_available():
        pytest.skip(
            f"{HLEDGER} not found (apt-get install hledger); REQUIRE_HLEDGER=1 makes it fail"
        )
    org, path = journal
    check = subprocess.run(
        [HLEDGER, "--strict", "-f", str(path), "check", "ordereddates", "uniqueleafnames"],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stderr
    report = subprocess.run(
        [HLEDGER, "-f", str(path), "balance", "--flat", "--no-total", "-O", "csv"],
        capture_output=True,
        text=True,
        check=True,
    )
    rows = list(csv.reader(io.StringIO(report.stdout)))
    assert rows[0] == ["account", "balance"]
    from_hledger = {code_of(name): amount(value) for name, value in rows[1:]}
    assert from_hledger == trial_balance(org)
    assert from_hledger["1105"] == Decimal("1120.00")  # 960.00 + 160.00 still owed
    tagged = subprocess.run(
        [
            HLEDGER,
            "-f",
            str(path),
            "balance",
            "--flat",
            "--no-total",
            "-O",
            "csv",
            "tag:pillar=Local",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    tagged_rows = list(csv.reader(io.StringIO(tagged.stdout)))[1:]
    assert [(code_of(name), amount(value)) for name, value in tagged_rows] == [
        ("4102", Decimal("-500.00"))
    ]


@pytest.mark.skipif(
    not os.path.exists(LEDGER), reason=f"{LEDGER} not found (apt-get install ledger)"
)
def test_ledger_accepts_the_journal_and_agrees_with_the_trial_balance(journal):
    org, path = journal
    report = subprocess.run(
        [
            LEDGER,
            "--pedantic",
            "-f",
            str(path),
            "balance",
            "--flat",
            "--no-total",
            "--balance-format",
            "%(account)\t%(quantity(scrub(display_total)))\n",
        ],
        capture_output=True,
        text=True,
    )
    assert report.returncode == 0, report.stderr
    balances: dict[str, Decimal] = defaultdict(Decimal)
    for line in report.stdout.splitlines():
        name, value = line.split("\t")
        balances[code_of(name)] += Decimal(value)
    assert {code: value for code, value in balances.items() if value} == trial_balance(org)


def test_pillars_are_tagged_in_the_organisation_language(tmp_path):
    org = sample_books()
    path = tmp_path / "es.journal"
    export(org, path, language="es-mx")
    text = path.read_text(encoding="utf-8")
    assert "; pillar: Valor social de la industria" in text
    assert "; pillar: Contenido nacional proveeduría local" in text
    if hledger_available():
        tagged = subprocess.run(
            [HLEDGER, "-f", str(path), "register", "tag:pillar=proveeduría", "-O", "csv"],
            capture_output=True,
            text=True,
            check=True,
        )
        assert len(list(csv.reader(io.StringIO(tagged.stdout)))) == 2  # header and one posting


def test_dates_limit_the_export_and_stdout_gets_the_journal(journal, tmp_path):
    org, _path = journal
    out = io.StringIO()
    call_command(
        "export_journal",
        "--org",
        org.slug,
        "--from",
        "2026-02-01",
        "--to",
        "2026-02-28",
        stdout=out,
    )
    text = out.getvalue()
    dates = re.findall(r"^(\d{4}-\d\d-\d\d) \*", text, flags=re.MULTILINE)
    assert dates == ["2026-02-01", "2026-02-05", "2026-02-10", "2026-02-20"]
    if hledger_available():
        path = tmp_path / "february.journal"
        path.write_text(text, encoding="utf-8")
        check = subprocess.run([HLEDGER, "--strict", "-f", str(path), "check"], capture_output=True)
        assert check.returncode == 0, check.stderr


def test_an_organisation_without_entries_exports_only_the_declarations(tmp_path):
    org = books()
    path = tmp_path / "empty.journal"
    assert "0 entries (0 lines)" in export(org, path)
    assert "commodity MXN" in path.read_text(encoding="utf-8")
    if hledger_available():
        check = subprocess.run([HLEDGER, "--strict", "-f", str(path), "check"], capture_output=True)
        assert check.returncode == 0, check.stderr


def test_the_export_reads_lines_in_a_constant_number_of_queries(
    tmp_path, django_assert_max_num_queries
):
    org = sample_books()
    with django_assert_max_num_queries(6):
        export(org, tmp_path / "books.journal")


def test_another_organisation_entries_stay_out(tmp_path):
    org = sample_books()
    other = books()
    path = tmp_path / "other.journal"
    assert "0 entries" in export(other, path)
    assert org.slug not in path.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--org", "nobody"], "No organisation has the short name “nobody”"),
        (["--org", "{org}", "--from", "2026-13-01"], "is not a date"),
        (["--org", "{org}", "--from", "2026-03-01", "--to", "2026-02-01"], "must not be after"),
        (["--org", "{org}", "--output", "/nonexistent/dir/x.journal"], "cannot be written"),
    ],
)
def test_bad_arguments_are_clear_errors(args, message):
    org = books()
    with pytest.raises(CommandError, match=message):
        call_command("export_journal", *[a.format(org=org.slug) for a in args], "--language", "en")
