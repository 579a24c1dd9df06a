"""Ledger pages: chart of accounts, fiscal years and periods, settings, journal, budgets.

Declarations on the generic views wherever they fit; the views below only
add what differs (a detail page's extra panels, actions that call a service).
Every write goes through ``services`` (or ``setup``), on POST, in its transaction.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from django import forms as django_forms
from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, QuerySet, Sum
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import NoReverseMatch, URLPattern, URLResolver, path, reverse
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gremio.core.models import Organisation, Pillar
from gremio.core.permissions import can, roles_for
from gremio.core.roles import ADD, Role
from gremio.core.scoping import scope_queryset
from gremio.core.views import generic

from . import filtersets, forms, services, tables
from .models import (
    ZERO,
    Account,
    AccountBalance,
    Budget,
    FinanceSettings,
    FiscalYear,
    JournalEntry,
    JournalLine,
    Period,
)
from .posting import Line
from .setup import finance_setup, fiscal_year_create, fiscal_year_start


def next_url(request: HttpRequest, organisation: Organisation, default: str) -> str:
    """Where a POST action returns: the page it came from, if inside the organisation."""
    target = request.POST.get("_next", "")
    return target if target.startswith(f"/{organisation.slug}/") else default


def org_url(name: str, organisation: Organisation, pk: int | None = None, **query: Any) -> str:
    kwargs: dict[str, Any] = {"org": organisation.slug}
    if pk is not None:
        kwargs["pk"] = pk
    url = reverse(f"finance:{name}", kwargs=kwargs)
    if query:
        url += "?" + "&".join(f"{key}={value}" for key, value in query.items())
    return url


def error_text(error: ValidationError) -> str:
    return " ".join(str(message) for message in error.messages)


def related_or_none(obj: Any, name: str) -> Any:
    """A reverse one-to-one, or None where there is none."""
    try:
        return getattr(obj, name)
    except ObjectDoesNotExist:
        return None


class LedgerListView(generic.ObjectListView):
    """A list of millions of rows, read without joining the organisation.

    Given the one-row organisation join, SQLite's planner drives the query
    from it and sorts every row before the LIMIT; without it, the index order
    answers at once (1.8 s → 15 ms at three million lines). The table's links
    take the organisation from the table instead.
    """

    related: tuple[str, ...] = ()

    def get_queryset(self) -> QuerySet[Any]:
        return super().get_queryset().select_related(None).select_related(*self.related)


# Chart of accounts --------------------------------------------------------------------


class AccountListView(generic.ObjectListView):
    paginate_by = 100  # a chart reads best whole; a few hundred accounts at most


class AccountDetailView(generic.ObjectDetailView):
    """The account, its balance (from the maintained balances), sub-accounts and lines."""

    def detail_context(self, obj: Any, **extra: Any) -> dict[str, Any]:
        balance = None
        if obj.postable:
            sums = AccountBalance.objects.filter(account=obj).aggregate(
                debit=Sum("debit"), credit=Sum("credit")
            )
            debit, credit = sums["debit"] or ZERO, sums["credit"] or ZERO
            balance = {
                "debit": debit,
                "credit": credit,
                "balance": debit - credit if obj.debit_normal else credit - debit,
            }
        return super().detail_context(
            obj,
            children=obj.children.all(),
            balance=balance,
            lines_url=org_url("journalline_list", self.organisation, account=obj.pk)
            if obj.postable
            else "",
            **extra,
        )


def account_in_use(account: Account) -> str | None:
    """Why ``account`` cannot be deleted, or None."""
    if JournalLine.objects.filter(account=account).exists():
        return _(
            "“{account}” has journal lines and cannot be deleted; deactivate it instead."
        ).format(account=account)
    role = forms.account_settings_role(account)
    if role:
        return _("“{account}” is the {role} in the finance settings and cannot be deleted.").format(
            account=account, role=role
        )
    if account.children.exists():
        return _("“{account}” has sub-accounts; delete or move them first.").format(account=account)
    return None


class AccountDeleteView(generic.ObjectDeleteView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        account = self.get_object()
        reason = account_in_use(account)
        if reason:
            messages.error(request, reason)
            return HttpResponseRedirect(self.pages.url("detail", self.organisation, account))
        # Anything else that names it (budgets, documents) is a ProtectedError,
        # which the generic view turns into a message.
        return super().post(request, *args, **kwargs)


account_pages = generic.ModelPages(
    model=Account,
    table=tables.AccountTable,
    form=forms.AccountForm,
    filterset=filtersets.AccountFilterSet,
    queryset=Account.objects.select_related("parent"),
    detail_fields=("code", "name", "type", "parent", "postable", "sat_code", "active"),
    view_classes={
        "list": AccountListView,
        "detail": AccountDetailView,
        "delete": AccountDeleteView,
    },
)


# Fiscal years and periods -------------------------------------------------------------


def period_permissions(request: HttpRequest, organisation: Organisation) -> dict[str, bool]:
    return {
        "may_close": can(request.user, "finance.change_period", organisation),
        # Reopening undoes a close the books may rely on: administrators only.
        "may_reopen": Role.ADMIN in roles_for(request.user, organisation.pk),
    }


class FiscalYearAddView(generic.ObjectEditView):
    """Asks for a date; ``setup.fiscal_year_create`` opens the year and its periods."""

    def get_initial(self) -> dict[str, Any]:
        last = FiscalYear.objects.filter(organisation=self.organisation).order_by("-end").first()
        if last is not None:
            return {"start": last.end + dt.timedelta(days=1)}
        return {"start": fiscal_year_start(self.organisation, timezone.localdate())}

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        instance = self.get_instance()
        form = self.get_form(instance)
        if form.is_valid():
            try:
                fiscal_year = fiscal_year_create(
                    organisation=self.organisation, start=form.cleaned_data["start"]
                )
            except ValidationError as error:
                forms.service_errors(form, error)
            except IntegrityError:  # opened by someone else a moment ago
                form.add_error("start", _("There is already a fiscal year starting on this date."))
            else:
                messages.success(
                    request,
                    _("Fiscal year {name} opened with its twelve periods.").format(
                        name=fiscal_year.name
                    ),
                )
                return HttpResponseRedirect(
                    self.pages.url("detail", self.organisation, fiscal_year)
                )
        return self.render_form(form, instance, status=422 if request.htmx else 200)  # type: ignore[attr-defined]


class FiscalYearDetailView(generic.ObjectDetailView):
    def detail_context(self, obj: Any, **extra: Any) -> dict[str, Any]:
        periods = obj.periods.select_related("closed_by").order_by("start")
        return super().detail_context(
            obj, periods=periods, **period_permissions(self.request, self.organisation), **extra
        )


fiscalyear_pages = generic.ModelPages(
    model=FiscalYear,
    table=tables.FiscalYearTable,
    form=forms.FiscalYearCreateForm,
    filterset=filtersets.FiscalYearFilterSet,
    queryset=FiscalYear.objects.annotate(
        closed_periods=Count("periods", filter=Q(periods__status=Period.Status.CLOSED))
    ),
    detail_fields=("name", "start", "end"),
    # A fiscal year is opened, never edited or deleted: its periods hold the entries.
    views=("list", "detail", "add", "history"),
    view_classes={"add": FiscalYearAddView, "detail": FiscalYearDetailView},
)


class PeriodDetailView(generic.ObjectDetailView):
    def detail_context(self, obj: Any, **extra: Any) -> dict[str, Any]:
        return super().detail_context(
            obj,
            entries_count=JournalEntry.objects.filter(period=obj).count(),
            entries_url=org_url("journalentry_list", self.organisation, period=obj.pk),
            lines_url=org_url("journalline_list", self.organisation, period=obj.pk),
            **period_permissions(self.request, self.organisation),
            **extra,
        )


period_pages = generic.ModelPages(
    model=Period,
    table=tables.PeriodTable,
    filterset=filtersets.PeriodFilterSet,
    queryset=Period.objects.select_related("fiscal_year", "closed_by"),
    detail_fields=("fiscal_year", "number", "start", "end", "status", "closed_at", "closed_by"),
    # Periods come with their fiscal year; they are only closed and reopened.
    views=("list", "detail", "history"),
    view_classes={"detail": PeriodDetailView},
)


def _period_action(request: HttpRequest, pk: int, *, close: bool) -> HttpResponse:
    organisation: Organisation = request.organisation  # type: ignore[attr-defined]
    allowed = period_permissions(request, organisation)["may_close" if close else "may_reopen"]
    if not allowed:
        raise PermissionDenied
    period = get_object_or_404(
        Period.objects.filter(organisation=organisation).select_related("organisation"), pk=pk
    )
    try:
        if close:
            services.period_close(period=period, user=request.user)
        else:
            services.period_reopen(period=period, user=request.user)
    except ValidationError as error:
        messages.error(request, error_text(error))
    else:
        message = _("Period {period} closed.") if close else _("Period {period} reopened.")
        messages.success(request, message.format(period=period))
    return HttpResponseRedirect(next_url(request, organisation, period.get_absolute_url()))


@generic.serves(Period)
@require_POST
def period_close(request: HttpRequest, org: str, pk: int) -> HttpResponse:
    return _period_action(request, pk, close=True)


@generic.serves(Period)
@require_POST
def period_reopen(request: HttpRequest, org: str, pk: int) -> HttpResponse:
    return _period_action(request, pk, close=False)


# Finance settings ----------------------------------------------------------------------


def _settings_page(
    request: HttpRequest,
    organisation: Organisation,
    settings: FinanceSettings | None,
    *,
    form: Any = None,
    lock_form: Any = None,
) -> HttpResponse:
    may_change = can(request.user, "finance.change_financesettings", organisation)
    context: dict[str, Any] = {
        "organisation": organisation,
        "settings": settings,
        "may_change": may_change,
    }
    if settings is not None:
        context["roles"] = [
            (forms.settings_label(name), getattr(settings, name))
            for name in forms.SETTINGS_ACCOUNT_TYPES
        ]
        if may_change:
            context["form"] = form or forms.FinanceSettingsForm(
                instance=settings, organisation=organisation
            )
            context["lock_form"] = lock_form or forms.LockDateForm(
                initial={"lock_date": settings.lock_date}
            )
    return render(request, "finance/settings.html", context)


def _settings_of(organisation: Organisation) -> FinanceSettings | None:
    return (
        FinanceSettings.objects.filter(organisation=organisation)
        .select_related(*forms.SETTINGS_ACCOUNT_TYPES)
        .first()
    )


def settings_page(request: HttpRequest, org: str) -> HttpResponse:
    """The ledger's configuration; POST saves the accounts and terms (or sets up the books)."""
    organisation: Organisation = request.organisation  # type: ignore[attr-defined]
    if not can(request.user, "finance.view_financesettings", organisation):
        raise PermissionDenied
    settings = _settings_of(organisation)
    if request.method != "POST":
        return _settings_page(request, organisation, settings)
    if not can(request.user, "finance.change_financesettings", organisation):
        raise PermissionDenied
    if settings is None:
        finance_setup(organisation=organisation)
        messages.success(request, _("The books are set up with the standard chart of accounts."))
        return HttpResponseRedirect(org_url("settings", organisation))
    form = forms.FinanceSettingsForm(request.POST, instance=settings, organisation=organisation)
    if not form.is_valid():
        return _settings_page(request, organisation, settings, form=form)
    with transaction.atomic():
        form.save()
    messages.success(request, _("Finance settings saved."))
    return HttpResponseRedirect(org_url("settings", organisation))


@require_POST
def settings_lock_date(request: HttpRequest, org: str) -> HttpResponse:
    """Move the lock date forward (``services.lock_date_set`` refuses moving it back)."""
    organisation: Organisation = request.organisation  # type: ignore[attr-defined]
    if not can(request.user, "finance.change_financesettings", organisation):
        raise PermissionDenied
    settings = _settings_of(organisation)
    if settings is None:
        return HttpResponseRedirect(org_url("settings", organisation))
    lock_form = forms.LockDateForm(request.POST)
    if lock_form.is_valid():
        try:
            services.lock_date_set(
                organisation=organisation, date=lock_form.cleaned_data["lock_date"]
            )
        except ValidationError as error:
            forms.service_errors(lock_form, error)
        else:
            messages.success(
                request,
                _("The books are locked up to {date}.").format(
                    date=lock_form.cleaned_data["lock_date"].isoformat()
                ),
            )
            return HttpResponseRedirect(org_url("settings", organisation))
    return _settings_page(request, organisation, settings, lock_form=lock_form)


# Journal entries -----------------------------------------------------------------------

#: The documents that post entries: reverse one-to-one name and page name.
DOCUMENTS = (
    ("invoice", "invoice_detail"),
    ("payment", "payment_detail"),
    ("bill", "bill_detail"),
    ("bill_payment", "billpayment_detail"),
    # The reversal that cancelled a payment belongs to the payment too.
    ("payment_cancelled", "payment_detail"),
    ("bill_payment_cancelled", "billpayment_detail"),
)


def _document_url(name: str, organisation: Organisation, pk: int) -> str:
    try:
        return org_url(name, organisation, pk)
    except NoReverseMatch:  # a document without a page of its own
        return ""


def source_document(entry: JournalEntry, organisation: Organisation) -> dict[str, Any] | None:
    """The invoice, payment or bill that posted ``entry``, with a link to it."""
    for attr, page in DOCUMENTS:
        document = related_or_none(entry, attr)
        if document is not None:
            label = capfirst(document._meta.verbose_name)
            if getattr(document, "is_credit_note", False):
                label = _("Credit note")
            return {
                "label": label,
                "object": document,
                "url": _document_url(page, organisation, document.pk),
            }
    allocation = related_or_none(entry, "allocation")
    if allocation is not None:
        return {
            "label": _("Allocation of a payment"),
            "object": allocation.payment,
            "url": _document_url("payment_detail", organisation, allocation.payment_id),
        }
    return None


class JournalEntryDetailView(generic.ObjectDetailView):
    """The entry's lines and totals, what it reverses or is reversed by, its document."""

    def get_queryset(self) -> QuerySet[Any]:
        return (
            super()
            .get_queryset()
            .select_related(
                "fiscal_year",
                "period__organisation",
                "company__organisation",
                "posted_by",
                "reverses__fiscal_year",
                "reversed_by__fiscal_year",
                "invoice__series",
                "payment__company",
                "bill__supplier",
                "bill_payment__bill__supplier",
                "allocation__payment__company",
                "payment_cancelled__company",
                "bill_payment_cancelled__bill__supplier",
            )
        )

    def detail_context(self, obj: Any, **extra: Any) -> dict[str, Any]:
        lines = list(obj.lines.select_related("account", "pillar"))
        reversed_by = related_or_none(obj, "reversed_by")
        may_reverse = (
            obj.is_posted
            and obj.reverses_id is None
            and reversed_by is None
            and not obj.source
            and self.may(ADD)
        )
        return super().detail_context(
            obj,
            lines=lines,
            debit_total=sum((line.debit for line in lines), ZERO),
            credit_total=sum((line.credit for line in lines), ZERO),
            reversed_by=reversed_by,
            document=source_document(obj, self.organisation),
            may_reverse=may_reverse,
            reverse_form=forms.EntryReverseForm() if may_reverse else None,
            **extra,
        )


class JournalEntryListView(LedgerListView):
    related = ("fiscal_year", "company")


class JournalEntryAddView(generic.OrganisationView):
    """A manual entry with its lines, posted at once by ``services.entry_post``.

    Nothing is written unless the whole entry posts; the service's refusal
    (unbalanced, closed period, locked date…) is shown on the form.
    """

    action = ADD
    template_name = "finance/journalentry_form.html"

    def build(self, data: Any = None) -> tuple[Any, Any]:
        accounts = {
            str(account.pk): account
            for account in scope_queryset(Account.objects.filter(postable=True), self.organisation)
        }
        pillars = {
            str(pillar.pk): pillar
            for pillar in scope_queryset(Pillar.objects.all(), self.organisation)
        }
        head = forms.JournalEntryForm(
            data, organisation=self.organisation, initial={"date": timezone.localdate()}
        )
        lines = forms.JournalLineFormSet(
            data, prefix="lines", form_kwargs={"accounts": accounts, "pillars": pillars}
        )
        return head, lines

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        head, lines = self.build()
        return self.render_page(head, lines, [])

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        head, formset = self.build(request.POST)
        head_valid, lines_valid = head.is_valid(), formset.is_valid()
        filled = [
            form.cleaned_data
            for form in formset.forms
            if form.has_changed() and getattr(form, "cleaned_data", None)
        ]
        if head_valid and lines_valid:
            if len(filled) < 2:
                head.add_error(None, _("An entry needs at least two lines."))
            else:
                try:
                    entry = services.entry_post(
                        organisation=self.organisation,
                        date=head.cleaned_data["date"],
                        memo=head.cleaned_data["memo"],
                        kind=head.cleaned_data["kind"],
                        company=head.cleaned_data.get("company"),
                        lines=[
                            Line(
                                account=data["account"],
                                debit=data.get("debit") or ZERO,
                                credit=data.get("credit") or ZERO,
                                pillar_id=data["pillar"].pk if data.get("pillar") else None,
                                description=data.get("description", ""),
                            )
                            for data in filled
                        ],
                        user=request.user,
                    )
                except ValidationError as error:
                    forms.service_errors(head, error)
                else:
                    messages.success(
                        request, _("Entry {reference} posted.").format(reference=entry.reference)
                    )
                    return HttpResponseRedirect(entry.get_absolute_url())
        return self.render_page(head, formset, filled)

    def render_page(self, head: Any, formset: Any, filled: list[dict[str, Any]]) -> HttpResponse:
        debit = sum((data.get("debit") or ZERO for data in filled), ZERO)
        credit = sum((data.get("credit") or ZERO for data in filled), ZERO)
        context = self.base_context(
            form=head,
            formset=formset,
            debit_total=debit,
            credit_total=credit,
            difference=debit - credit,
        )
        return render(self.request, self.template_name, context)


journalentry_pages = generic.ModelPages(
    model=JournalEntry,
    table=tables.JournalEntryTable,
    filterset=filtersets.JournalEntryFilterSet,
    queryset=JournalEntry.objects.select_related("fiscal_year", "company"),
    detail_fields=(
        "date",
        "kind",
        "memo",
        "company",
        "period",
        "state",
        "posted_at",
        "posted_by",
    ),
    # Posted entries are immutable: they are reversed, never edited or deleted.
    views=("list", "detail", "add", "history"),
    view_classes={
        "list": JournalEntryListView,
        "detail": JournalEntryDetailView,
        "add": JournalEntryAddView,
    },
    lazy_pagination=True,  # over a million entries at the network's scale
)


@generic.serves(JournalEntry)
@require_POST
def journalentry_reverse(request: HttpRequest, org: str, pk: int) -> HttpResponse:
    """Post the entry that undoes this one, on the date given (its own by default)."""
    organisation: Organisation = request.organisation  # type: ignore[attr-defined]
    if not can(request.user, "finance.add_journalentry", organisation):
        raise PermissionDenied
    entry = get_object_or_404(
        JournalEntry.objects.filter(organisation=organisation).select_related(
            "organisation", "fiscal_year"
        ),
        pk=pk,
    )
    form = forms.EntryReverseForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(str(m) for e in form.errors.values() for m in e))
        return HttpResponseRedirect(entry.get_absolute_url())
    try:
        reversal = services.entry_reverse(
            entry=entry, date=form.cleaned_data["date"], user=request.user
        )
    except ValidationError as error:
        messages.error(request, error_text(error))
        return HttpResponseRedirect(entry.get_absolute_url())
    messages.success(
        request,
        _("Entry {entry} reversed by {reversal}.").format(
            entry=entry.reference, reversal=reversal.reference
        ),
    )
    return HttpResponseRedirect(reversal.get_absolute_url())


# Journal lines -------------------------------------------------------------------------

#: Filters that the maintained balances answer as well as the lines do.
BALANCE_FILTERS = {
    "account": "account",
    "account_type": "account__type",
    "pillar": "pillar",
    "period": "period",
    "date_from": "period__start__gte",
    "date_to": "period__end__lte",
}
#: Filters on the entry alone: an entry's lines debit and credit its total.
ENTRY_FILTERS = {
    "kind": "kind",
    "company": "company",
    "period": "period",
    "date_from": "date__gte",
    "date_to": "date__lte",
}


class JournalLineListView(LedgerListView):
    """The drill-down behind every report figure, with the totals of what it shows.

    At millions of lines it stays fast: no count without an account (previous /
    next only), dates narrowed to their periods (an indexed column of the line),
    and totals read from the maintained balances or the entries' totals
    whenever the filters allow (one aggregate query in every case).
    """

    partial_template_name = "finance/journalline_table.html"
    related = ("entry__fiscal_year", "account", "pillar")
    date_periods: list[tuple[int, dt.date, dt.date]] | None = None

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # One account's lines are counted on its index; all lines are not.
        self.pages = copy.copy(self.pages)  # this request's own, not the declaration
        self.pages.lazy_pagination = not request.GET.get("account")
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Any]:
        queryset = super().get_queryset()
        date_from, date_to = (self.date_param("date_from"), self.date_param("date_to"))
        if date_from or date_to:
            periods = Period.objects.filter(organisation=self.organisation)
            if date_from:
                periods = periods.filter(end__gte=date_from)
            if date_to:
                periods = periods.filter(start__lte=date_to)
            self.date_periods = list(periods.values_list("pk", "start", "end"))
            # The same lines as the entry's date alone selects, found by the line's own index.
            queryset = queryset.filter(period_id__in=[pk for pk, _s, _e in self.date_periods])
        return queryset

    def date_param(self, name: str) -> dt.date | None:
        try:
            return django_forms.DateField(required=False).clean(self.request.GET.get(name))
        except ValidationError:
            return None  # the filter set reports it

    def base_context(self, **extra: Any) -> dict[str, Any]:
        context = super().base_context(**extra)
        if "table" in extra:
            context["totals"] = self.totals(extra["table"].data.data, extra.get("filterset"))
        return context

    def totals(self, lines: QuerySet[Any], filterset: Any) -> dict[str, Any]:
        cleaned: dict[str, Any] = {}
        if filterset is not None and filterset.is_bound:
            if not filterset.is_valid():
                return {"debit": ZERO, "credit": ZERO}
            cleaned = filterset.form.cleaned_data
        used = {name: value for name, value in cleaned.items() if value not in (None, "", [])}
        # The smallest table that answers exactly: balances, else entries, else the lines.
        if set(used) <= set(BALANCE_FILTERS) and self.whole_periods(used):
            source: QuerySet[Any] = AccountBalance.objects.filter(
                organisation=self.organisation,
                **{BALANCE_FILTERS[name]: value for name, value in used.items()},
            )
        elif set(used) <= set(ENTRY_FILTERS):
            total = (
                JournalEntry.objects.filter(
                    organisation=self.organisation,
                    state=JournalEntry.State.POSTED,
                    **{ENTRY_FILTERS[name]: value for name, value in used.items()},
                ).aggregate(total=Sum("total"))["total"]
                or ZERO
            )
            return {"debit": total, "credit": total}
        else:
            source = lines.order_by()
        sums = source.aggregate(debit=Sum("debit"), credit=Sum("credit"))
        return {"debit": sums["debit"] or ZERO, "credit": sums["credit"] or ZERO}

    def whole_periods(self, used: dict[str, Any]) -> bool:
        """Whether the dates (if any) start and end periods, as the balances are kept."""
        periods = self.date_periods or []
        starts_ok = "date_from" not in used or any(s == used["date_from"] for _p, s, _e in periods)
        ends_ok = "date_to" not in used or any(e == used["date_to"] for _p, _s, e in periods)
        return starts_ok and ends_ok


journalline_pages = generic.ModelPages(
    model=JournalLine,
    table=tables.JournalLineTable,
    filterset=filtersets.JournalLineFilterSet,
    queryset=JournalLine.objects.select_related("entry__fiscal_year", "account", "pillar"),
    # Lines are read here and written only with their entry.
    views=("list",),
    view_classes={"list": JournalLineListView},
    lazy_pagination=True,
)


# Budgets -------------------------------------------------------------------------------

budget_pages = generic.ModelPages(
    model=Budget,
    table=tables.BudgetTable,
    form=forms.BudgetForm,
    filterset=filtersets.BudgetFilterSet,
    queryset=Budget.objects.select_related("account", "period", "pillar"),
    detail_fields=("account", "period", "pillar", "amount"),
)


urlpatterns: list[URLPattern | URLResolver] = [
    *account_pages.urls("accounts"),
    *fiscalyear_pages.urls("fiscal-years"),
    *period_pages.urls("periods"),
    path("periods/<int:pk>/close/", period_close, name="period_close"),
    path("periods/<int:pk>/reopen/", period_reopen, name="period_reopen"),
    path("settings/", settings_page, name="settings"),
    path("settings/lock-date/", settings_lock_date, name="settings_lock_date"),
    *journalentry_pages.urls("entries"),
    path("entries/<int:pk>/reverse/", journalentry_reverse, name="journalentry_reverse"),
    *journalline_pages.urls("lines"),
    *budget_pages.urls("budgets"),
]
