"""Finance document pages: invoices, payments received, supplier bills, invoice series.

Declarations on the generic views, as in members; where a document behaves
differently (lines edited with their header, state changes, the PDF, the
two-step payment page) a view below says so. Every write goes through
``services``; a ``ValidationError`` it raises lands on the form, and the
transaction leaves nothing written.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.forms.models import model_to_dict
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gremio.core.permissions import can
from gremio.core.roles import ADD, CHANGE
from gremio.core.scoping import scope_queryset
from gremio.core.views import generic
from gremio.members.models import Company

from . import filtersets, forms, pdf, services, tables
from .models import (
    Bill,
    BillPayment,
    Invoice,
    InvoiceSeries,
    Payment,
)
from .pdf import vat_breakdown
from .posting import finance_settings

OPEN_INVOICES_SHOWN = 200


def service_errors(form: Any, error: ValidationError) -> None:
    """Put a service's ``ValidationError`` on the form: on its field when the form has it."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def next_url(request: HttpRequest, default: str) -> str:
    """Where to go after an action: ``_next`` if it stays inside the organisation."""
    wanted = request.POST.get("_next", "")
    organisation = request.organisation  # type: ignore[attr-defined]
    return wanted if wanted.startswith(f"/{organisation.slug}/") else default


def money(amount: Decimal) -> str:
    return number_format(amount, 2, force_grouping=True)


def open_invoices(organisation: Any, company_id: int) -> QuerySet[Invoice]:
    """A company's invoices that can still be paid, oldest first."""
    return (
        Invoice.objects.filter(
            organisation=organisation,
            company_id=company_id,
            state=Invoice.State.ISSUED,
            is_credit_note=False,
        )
        .select_related("series")
        .order_by("date", "pk")
    )


# Shared behaviour of the documents -------------------------------------------------------


class DraftOnlyMixin:
    """A document changes (and is deleted) only as a draft; otherwise the user is told why."""

    refused_message: Any = ""

    request: HttpRequest

    def refuse(self, instance: Any) -> HttpResponse | None:
        if instance.pk and instance.state != "draft":
            messages.error(self.request, str(self.refused_message))
            return HttpResponseRedirect(instance.get_absolute_url())
        return None


class DocumentContextMixin:
    """Edit and delete buttons only while the document is a draft."""

    def detail_context(self, obj: Any, **extra: Any) -> dict[str, Any]:
        context: dict[str, Any] = super().detail_context(obj, **extra)  # type: ignore[misc]
        draft = obj.state == "draft"
        context["may_change"] = context["may_change"] and draft
        context["may_delete"] = context["may_delete"] and draft
        return context


class DocumentHistoryView(DocumentContextMixin, generic.ObjectHistoryView):
    pass


class DocumentEditView(DraftOnlyMixin, generic.ObjectEditView):
    """A document's header form with its lines formset, saved through a service."""

    template_name = "finance/invoice_edit.html"
    formset_class: Any = None
    line_fields: tuple[str, ...] = ()

    def get_formset(self, instance: Any) -> Any:
        data = self.request.POST if self.request.method == "POST" else None
        initial = None
        if instance.pk:
            initial = [
                model_to_dict(line, fields=self.line_fields) for line in instance.lines.all()
            ]
        return self.formset_class(
            data,
            initial=initial,
            prefix="lines",
            form_kwargs={"organisation": self.organisation},
        )

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        instance = self.get_instance()
        refusal = self.refuse(instance)
        if refusal:
            return refusal
        return self.render_form(self.get_form(instance), instance, self.get_formset(instance))

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        instance = self.get_instance()
        refusal = self.refuse(instance)
        if refusal:
            return refusal
        created = instance.pk is None
        form = self.get_form(instance)
        formset = self.get_formset(instance)
        if form.is_valid() and formset.is_valid():
            try:
                with transaction.atomic():
                    obj = self.save_document(form.save(commit=False), formset.instances())
                    if obj.organisation_id != self.organisation.pk:
                        raise PermissionDenied
            except ValidationError as error:
                service_errors(form, error)
                if created:  # the rolled-back insert gave it a primary key
                    instance.pk = None
            else:
                message = (
                    _("{model} “{object}” created.") if created else _("{model} “{object}” saved.")
                )
                messages.success(
                    request,
                    message.format(model=self.model._meta.verbose_name.capitalize(), object=obj),
                )
                return HttpResponseRedirect(self.success_url(obj))
        return self.render_form(form, instance, formset)

    def save_document(self, document: Any, lines: list[Any]) -> Any:
        raise NotImplementedError

    def render_form(  # type: ignore[override]
        self, form: Any, instance: Any, formset: Any = None, status: int = 200
    ) -> HttpResponse:
        context = self.base_context(
            form=form, formset=formset, object=instance if instance.pk else None
        )
        return render(self.request, self.template_name, context, status=status)


class DraftDeleteView(DraftOnlyMixin, generic.ObjectDeleteView):
    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.refuse(self.get_object()) or super().get(request, *args, **kwargs)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.refuse(self.get_object()) or super().post(request, *args, **kwargs)

    def delete(self, obj: Any) -> bool:
        services.document_delete(document=obj)
        return True


class DocumentActionView(generic.ObjectDetailView):
    """A state change on POST; its refusal is a message on the document's page."""

    action = CHANGE
    http_method_names = ["post"]
    success_message: Any = ""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        obj = self.get_object()
        try:
            with transaction.atomic():
                result = self.perform(obj)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return HttpResponseRedirect(obj.get_absolute_url())
        messages.success(request, str(self.success_message).format(object=result))
        return HttpResponseRedirect(next_url(request, result.get_absolute_url()))

    def perform(self, obj: Any) -> Any:
        raise NotImplementedError


# Invoice series ----------------------------------------------------------------------------

invoiceseries_pages = generic.ModelPages(
    model=InvoiceSeries,
    table=tables.InvoiceSeriesTable,
    form=forms.InvoiceSeriesForm,
    filterset=filtersets.InvoiceSeriesFilterSet,
    detail_fields=("prefix", "name", "kind", "active"),
    views=("list", "detail", "add", "edit", "history"),
)


# Invoices ----------------------------------------------------------------------------------

INVOICE_LINE_FIELDS = (
    "description",
    "service",
    "account",
    "pillar",
    "quantity",
    "unit_price",
    "vat_rate",
)


class InvoiceDetailView(DocumentContextMixin, generic.ObjectDetailView):
    """The invoice: lines, VAT, totals, what paid it, its credit note, its entry, actions."""

    def get_queryset(self) -> QuerySet[Any]:
        return (
            super()
            .get_queryset()
            .select_related(
                "entry__fiscal_year",
                "entry__organisation",
                "credit_note_for__series",
                "membership",
            )
        )

    def detail_context(self, obj: Any, **extra: Any) -> dict[str, Any]:
        lines = list(obj.lines.select_related("service", "account", "pillar"))
        credit_note = (
            Invoice.objects.filter(credit_note_for=obj).select_related("series").first()
            if obj.state == Invoice.State.CANCELLED
            else None
        )
        allocations = list(
            obj.allocations.select_related("payment", "entry__fiscal_year", "entry__organisation")
        )
        may_manage = self.may(CHANGE, obj)
        payable = obj.state == Invoice.State.ISSUED and not obj.is_credit_note
        extra.setdefault("cancel_form", forms.InvoiceCancelForm())
        return super().detail_context(
            obj,
            lines=lines,
            vat_breakdown=vat_breakdown(lines),
            allocations=allocations,
            credit_note=credit_note,
            overdue=tables.is_overdue(obj),
            may_issue=may_manage and obj.state == Invoice.State.DRAFT,
            may_cancel=may_manage and payable and not obj.amount_paid,
            may_pay=payable and can(self.request.user, "finance.add_payment", self.organisation),
            **extra,
        )


class InvoiceEditView(DocumentEditView):
    formset_class = forms.InvoiceLineFormSet
    line_fields = INVOICE_LINE_FIELDS
    refused_message = gettext_lazy("Only a draft invoice can be changed.")

    def get_initial(self) -> dict[str, Any]:
        organisation = self.organisation
        series = (
            InvoiceSeries.objects.filter(
                organisation=organisation, kind=InvoiceSeries.Kind.INVOICE, active=True
            )
            .order_by("prefix")
            .first()
        )
        company = scoped_company(organisation, self.request.GET.get("company"))
        return {
            "series": series.pk if series else None,
            "date": timezone.localdate(),
            "language": forms.document_language(organisation, company) if company else "",
        }

    def save_document(self, document: Invoice, lines: list[Any]) -> Invoice:
        return services.invoice_save(invoice=document, lines=lines)


class InvoiceDeleteView(DraftDeleteView):
    refused_message = gettext_lazy("Only a draft invoice can be deleted.")


class InvoiceIssueView(DocumentActionView):
    success_message = gettext_lazy("Invoice {object} issued.")

    def perform(self, obj: Invoice) -> Invoice:
        return services.invoice_issue(invoice=obj, user=self.request.user)


class CancelFromPageView(generic.ObjectDetailView):
    """Cancel a record from its page: the form posts here, its errors show on the page.

    ``cancel`` runs the service (in a transaction: a refusal writes nothing)
    and returns the success message.
    """

    action = CHANGE
    http_method_names = ["post"]
    form_class: Any

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        obj = self.get_object()
        form = self.form_class(request.POST)
        if form.is_valid():
            try:
                with transaction.atomic():
                    message = self.cancel(obj, form.cleaned_data)
            except ValidationError as error:
                service_errors(form, error)
            else:
                messages.success(request, message)
                return HttpResponseRedirect(obj.get_absolute_url())
        obj = self.get_object()  # as it is: the refused cancellation wrote nothing
        context = self.detail_context(obj, cancel_form=form, cancel_open=True)
        return render(request, self.get_template_names(), context)

    def cancel(self, obj: Any, data: dict[str, Any]) -> str:
        raise NotImplementedError


def _cancel_payment(service: Any, payment: Any, data: dict[str, Any], user: Any) -> str:
    payment = service(payment=payment, date=data["date"], reason=data["reason"], user=user)
    return _("{payment} cancelled on {date}.").format(
        payment=payment, date=date_format(payment.cancelled_on)
    )


class InvoiceCancelView(CancelFromPageView, InvoiceDetailView):
    """Cancel an issued, unpaid invoice: a credit note reverses it (optional date)."""

    form_class = forms.InvoiceCancelForm

    def cancel(self, invoice: Invoice, data: dict[str, Any]) -> str:
        credit_note = services.invoice_cancel(
            invoice=invoice, date=data["date"], user=self.request.user
        )
        return _("Invoice {invoice} cancelled by credit note {credit_note}.").format(
            invoice=invoice.reference, credit_note=credit_note.reference
        )


class InvoicePdfView(generic.OrganisationView):
    """The invoice as a PDF, in the invoice's language (drafts carry a watermark)."""

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        invoice = self.get_object()
        content = pdf.invoice_pdf(invoice)
        name = invoice.reference or f"draft-{invoice.pk}"
        response = HttpResponse(content, content_type="application/pdf")
        response["Content-Disposition"] = (
            f'attachment; filename="{self.organisation.slug}-{name}.pdf"'
        )
        return response


invoice_pages = generic.ModelPages(
    model=Invoice,
    table=tables.InvoiceTable,
    form=forms.InvoiceForm,
    filterset=filtersets.InvoiceFilterSet,
    queryset=Invoice.objects.select_related("series", "company__organisation"),
    view_classes={
        "detail": InvoiceDetailView,
        "add": InvoiceEditView,
        "edit": InvoiceEditView,
        "delete": InvoiceDeleteView,
        "history": DocumentHistoryView,
    },
)


# Payments received -------------------------------------------------------------------------


def scoped_company(organisation: Any, value: Any) -> Company | None:
    """The organisation's company with this id, or None (another's, unknown or malformed)."""
    if not value:
        return None
    try:
        return scope_queryset(Company.objects.all(), organisation).get(pk=value)
    except (Company.DoesNotExist, ValueError, TypeError):
        return None


class PaymentAddView(generic.OrganisationView):
    """Record money received, in two steps: whose money, then which of their invoices it pays.

    ``?company=`` skips the first step; ``?invoice=`` also proposes that
    invoice's balance. What is not allocated stays as the company's credit.
    """

    action = ADD
    template_name = "finance/payment_add.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        organisation = self.organisation
        invoice = self.invoice_asked(request.GET.get("invoice"))
        company_value = request.GET.get("company") or (invoice.company_id if invoice else None)
        company = scoped_company(organisation, company_value)
        if company is None:
            choose = forms.PaymentCompanyForm(
                {"company": company_value} if company_value else None, organisation=organisation
            )
            return self.render_page(choose_form=choose)
        if invoice is not None and invoice.company_id != company.pk:
            invoice = None
        settings = finance_settings(organisation)
        invoices = list(open_invoices(organisation, company.pk)[:OPEN_INVOICES_SHOWN])
        proposed = None
        if invoice is not None:
            if invoice.state == Invoice.State.ISSUED and not invoice.is_credit_note:
                proposed = invoice
                if invoice.pk not in {i.pk for i in invoices}:
                    invoices.insert(0, invoice)
            elif invoice.state == Invoice.State.CANCELLED:
                messages.warning(
                    request,
                    _("Invoice {number} is cancelled: it cannot be paid.").format(
                        number=invoice.reference
                    ),
                )
            else:
                messages.warning(
                    request,
                    _("Invoice {number} is not open for payment.").format(
                        number=invoice.reference or invoice.pk
                    ),
                )
        form = forms.PaymentForm(
            initial={
                "company": company.pk,
                "date": timezone.localdate(),
                "bank_account": settings.bank_account_id,
                "amount": proposed.balance_due if proposed else None,
            },
            organisation=organisation,
        )
        formset = forms.AllocationFormSet(
            initial=[
                {
                    "invoice": i.pk,
                    "amount": i.balance_due if proposed and i.pk == proposed.pk else None,
                }
                for i in invoices
            ],
            prefix="allocations",
        )
        return self.render_page(form=form, formset=formset, company=company, invoices=invoices)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        organisation = self.organisation
        company = scoped_company(organisation, request.POST.get("company"))
        if company is None:
            choose = forms.PaymentCompanyForm(request.POST, organisation=organisation)
            choose.is_valid()
            return self.render_page(choose_form=choose)
        form = forms.PaymentForm(request.POST, organisation=organisation)
        formset = forms.AllocationFormSet(request.POST, prefix="allocations")
        ids = [value for f in formset.forms if (value := f["invoice"].value())]
        invoices = {
            i.pk: i
            for i in Invoice.objects.filter(
                organisation=organisation, company=company, pk__in=clean_ids(ids)
            ).select_related("series")
        }
        rows_valid = formset.is_valid() and self.check_rows(formset, invoices)
        if form.is_valid() and rows_valid:
            wanted = [
                (invoices[f.cleaned_data["invoice"]], f.cleaned_data["amount"])
                for f in formset.forms
                if f.cleaned_data.get("amount")
            ]
            data = form.cleaned_data
            try:
                with transaction.atomic():
                    payment = services.payment_receive(
                        organisation=organisation,
                        company=company,
                        date=data["date"],
                        amount=data["amount"],
                        allocations=wanted,
                        bank_account=data["bank_account"],
                        method=data["method"],
                        reference=data["reference"],
                        notes=data["notes"],
                        user=request.user,
                    )
            except ValidationError as error:
                service_errors(form, error)
            else:
                messages.success(
                    request,
                    _("Payment of {amount} from {company} recorded.").format(
                        amount=money(payment.amount), company=company
                    ),
                )
                return HttpResponseRedirect(payment.get_absolute_url())
        shown = [invoices.get(parse_id(f["invoice"].value()) or 0) for f in formset.forms]
        return self.render_page(form=form, formset=formset, company=company, invoices=shown)

    @staticmethod
    def check_rows(formset: Any, invoices: dict[int, Invoice]) -> bool:
        """Each amount against its invoice: known, and no more than it owes."""
        valid = True
        for form in formset.forms:
            amount = form.cleaned_data.get("amount")
            if not amount:
                continue
            invoice = invoices.get(form.cleaned_data["invoice"])
            if invoice is None:
                form.add_error("amount", _("Unknown invoice."))
                valid = False
            elif invoice.state == Invoice.State.ISSUED and amount > invoice.balance_due:
                form.add_error(
                    "amount",
                    _("Invoice {number} owes {due}; {amount} cannot be allocated to it.").format(
                        number=invoice.reference,
                        due=money(invoice.balance_due),
                        amount=money(amount),
                    ),
                )
                valid = False
        return valid

    def invoice_asked(self, value: Any) -> Invoice | None:
        pk = parse_id(value)
        if pk is None:
            return None
        return (
            Invoice.objects.filter(organisation=self.organisation, pk=pk)
            .select_related("series")
            .first()
        )

    def render_page(self, **context: Any) -> HttpResponse:
        if "invoices" in context:
            context["rows"] = list(zip(context["formset"].forms, context["invoices"], strict=True))
        return render(self.request, self.template_name, self.base_context(**context))


def parse_id(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def clean_ids(values: list[Any]) -> list[int]:
    return [i for i in (parse_id(v) for v in values) if i is not None]


class PaymentDetailView(generic.ObjectDetailView):
    """The payment: what it paid, its unallocated credit and a form to allocate it."""

    def get_queryset(self) -> QuerySet[Any]:
        return (
            super()
            .get_queryset()
            .select_related(
                "company__organisation",
                "bank_account",
                "entry__fiscal_year",
                "entry__organisation",
                "cancellation_entry__fiscal_year",
                "cancellation_entry__organisation",
            )
        )

    def detail_context(self, obj: Any, **extra: Any) -> dict[str, Any]:
        allocations = list(
            obj.allocations.select_related(
                "invoice__series",
                "entry__fiscal_year",
                "entry__organisation",
                "entry__reversed_by__fiscal_year",
                "entry__reversed_by__organisation",
            )
        )
        may_change = self.may(CHANGE, obj)
        may_allocate = obj.unallocated > 0 and may_change
        if may_allocate and "allocate_form" not in extra:
            extra["allocate_form"] = self.allocate_form(obj)
        may_cancel = not obj.is_cancelled and may_change
        if may_cancel:
            extra.setdefault("cancel_form", forms.PaymentCancelForm())
        return super().detail_context(
            obj,
            allocations=allocations,
            may_allocate=may_allocate,
            may_cancel=may_cancel,
            **extra,
        )

    def allocate_form(self, payment: Payment, data: Any = None) -> forms.PaymentAllocateForm:
        invoices = open_invoices(self.organisation, payment.company_id)
        initial = {}
        if data is None:
            first = invoices.first()
            if first is not None:
                initial = {
                    "invoice": first.pk,
                    "amount": min(first.balance_due, payment.unallocated),
                }
        return forms.PaymentAllocateForm(data, initial=initial, invoices=invoices)


class PaymentAllocateView(PaymentDetailView):
    """Apply unallocated credit to an open invoice; errors show on the payment's page."""

    action = CHANGE
    http_method_names = ["post"]

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        payment = self.get_object()
        form = self.allocate_form(payment, request.POST)
        if form.is_valid():
            try:
                with transaction.atomic():
                    allocation = services.payment_allocate(
                        payment=payment,
                        invoice=form.cleaned_data["invoice"],
                        amount=form.cleaned_data["amount"],
                        date=form.cleaned_data["date"],
                        user=request.user,
                    )
            except ValidationError as error:
                service_errors(form, error)
            else:
                messages.success(
                    request,
                    _("{amount} allocated to invoice {number}.").format(
                        amount=money(allocation.amount), number=form.cleaned_data["invoice"]
                    ),
                )
                return HttpResponseRedirect(payment.get_absolute_url())
        payment.refresh_from_db()
        return render(
            request, self.get_template_names(), self.detail_context(payment, allocate_form=form)
        )


class PaymentCancelView(CancelFromPageView, PaymentDetailView):
    """Cancel a payment received: its entries are reversed, the invoices it paid reopen."""

    form_class = forms.PaymentCancelForm

    def cancel(self, payment: Payment, data: dict[str, Any]) -> str:
        return _cancel_payment(services.payment_cancel, payment, data, self.request.user)


payment_pages = generic.ModelPages(
    model=Payment,
    table=tables.PaymentTable,
    filterset=filtersets.PaymentFilterSet,
    queryset=Payment.objects.select_related("company__organisation"),
    views=("list", "detail", "add", "history"),
    view_classes={"detail": PaymentDetailView, "add": PaymentAddView},
)


# Supplier bills and payments made ----------------------------------------------------------

BILL_LINE_FIELDS = ("description", "account", "pillar", "amount", "vat_rate")


class BillDetailView(DocumentContextMixin, generic.ObjectDetailView):
    def get_queryset(self) -> QuerySet[Any]:
        return super().get_queryset().select_related("entry__fiscal_year", "entry__organisation")

    def detail_context(self, obj: Any, **extra: Any) -> dict[str, Any]:
        lines = list(obj.lines.select_related("account", "pillar"))
        may_manage = self.may(CHANGE, obj)
        return super().detail_context(
            obj,
            lines=lines,
            vat_breakdown=vat_breakdown(lines),
            payments=list(obj.payments.select_related("bank_account")),
            overdue=tables.is_overdue(obj),
            may_post=may_manage and obj.state == Bill.State.DRAFT,
            may_cancel=may_manage and obj.state == Bill.State.POSTED and not obj.amount_paid,
            may_pay=obj.state == Bill.State.POSTED
            and can(self.request.user, "finance.add_billpayment", self.organisation),
            **extra,
        )


class BillEditView(DocumentEditView):
    template_name = "finance/bill_edit.html"
    formset_class = forms.BillLineFormSet
    line_fields = BILL_LINE_FIELDS
    refused_message = gettext_lazy("Only a draft bill can be changed.")

    def get_initial(self) -> dict[str, Any]:
        return {"date": timezone.localdate()}

    def save_document(self, document: Bill, lines: list[Any]) -> Bill:
        return services.bill_save(bill=document, lines=lines)


class BillDeleteView(DraftDeleteView):
    refused_message = gettext_lazy("Only a draft bill can be deleted.")


class BillPostView(DocumentActionView):
    success_message = gettext_lazy("Bill {object} posted.")

    def perform(self, obj: Bill) -> Bill:
        return services.bill_post(bill=obj, user=self.request.user)


class BillCancelView(DocumentActionView):
    success_message = gettext_lazy("Bill {object} cancelled.")

    def perform(self, obj: Bill) -> Bill:
        return services.bill_cancel(bill=obj, user=self.request.user)


class BillPayView(generic.OrganisationView):
    """Pay (part of) a posted bill: date, amount (its balance by default), bank account."""

    action = CHANGE  # paying changes the bill; recording a payment made is asked too
    template_name = "finance/bill_pay.html"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        organisation = getattr(request, "organisation", None)
        if organisation is not None and not can(
            request.user, "finance.add_billpayment", organisation
        ):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        bill = self.get_object()
        form = self.form(bill)
        return self.render_page(bill, form)

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        bill = self.get_object()
        form = self.form(bill, request.POST)
        if bill.state == Bill.State.POSTED and form.is_valid():
            data = form.cleaned_data
            try:
                with transaction.atomic():
                    payment = services.bill_pay(
                        bill=bill,
                        date=data["date"],
                        amount=data["amount"],
                        bank_account=data["bank_account"],
                        method=data["method"],
                        reference=data["reference"],
                        user=request.user,
                    )
            except ValidationError as error:
                service_errors(form, error)
            else:
                messages.success(
                    request,
                    _("Payment of {amount} to {supplier} recorded.").format(
                        amount=money(payment.amount), supplier=bill.supplier
                    ),
                )
                return HttpResponseRedirect(bill.get_absolute_url())
        return self.render_page(bill, form)

    def form(self, bill: Bill, data: Any = None) -> forms.BillPayForm:
        initial = None
        if data is None:
            initial = {
                "date": max(bill.date, timezone.localdate()),
                "amount": bill.balance_due,
                "bank_account": finance_settings(self.organisation).bank_account_id,
            }
        return forms.BillPayForm(data, initial=initial, organisation=self.organisation)

    def render_page(self, bill: Bill, form: Any) -> HttpResponse:
        context = self.base_context(object=bill, form=form)
        return render(self.request, self.template_name, context)


bill_pages = generic.ModelPages(
    model=Bill,
    table=tables.BillTable,
    form=forms.BillForm,
    filterset=filtersets.BillFilterSet,
    queryset=Bill.objects.select_related("supplier__organisation"),
    view_classes={
        "detail": BillDetailView,
        "add": BillEditView,
        "edit": BillEditView,
        "delete": BillDeleteView,
        "history": DocumentHistoryView,
    },
)


class BillPaymentDetailView(generic.ObjectDetailView):
    """A payment made: its fields, whether it was cancelled, and the action to cancel it."""

    def get_queryset(self) -> QuerySet[Any]:
        return (
            super()
            .get_queryset()
            .select_related(
                "entry__fiscal_year",
                "entry__organisation",
                "cancellation_entry__fiscal_year",
                "cancellation_entry__organisation",
            )
        )

    def detail_context(self, obj: Any, **extra: Any) -> dict[str, Any]:
        may_cancel = not obj.is_cancelled and self.may(CHANGE, obj)
        if may_cancel:
            extra.setdefault("cancel_form", forms.PaymentCancelForm())
        return super().detail_context(obj, may_cancel=may_cancel, **extra)


class BillPaymentCancelView(CancelFromPageView, BillPaymentDetailView):
    """Cancel a payment made: its entry is reversed and the bill owes the amount again."""

    form_class = forms.PaymentCancelForm

    def cancel(self, payment: BillPayment, data: dict[str, Any]) -> str:
        return _cancel_payment(services.bill_payment_cancel, payment, data, self.request.user)


billpayment_pages = generic.ModelPages(
    model=BillPayment,
    table=tables.BillPaymentTable,
    filterset=filtersets.BillPaymentFilterSet,
    queryset=BillPayment.objects.select_related(
        "bill__supplier", "bill__organisation", "bank_account"
    ),
    detail_fields=("bill", "date", "amount", "method", "bank_account", "reference", "entry"),
    views=("list", "detail", "history"),
    view_classes={"detail": BillPaymentDetailView},
)


def action_url(pages: generic.ModelPages, view_class: Any, route: str, name: str) -> Any:
    view = view_class.as_view(model=pages.model, queryset=pages.queryset, pages=pages)
    return path(route, view, name=name)


urlpatterns = [
    *invoiceseries_pages.urls("series"),
    *invoice_pages.urls("invoices"),
    action_url(invoice_pages, InvoiceIssueView, "invoices/<int:pk>/issue/", "invoice_issue"),
    action_url(invoice_pages, InvoiceCancelView, "invoices/<int:pk>/cancel/", "invoice_cancel"),
    action_url(invoice_pages, InvoicePdfView, "invoices/<int:pk>/pdf/", "invoice_pdf"),
    *payment_pages.urls("payments"),
    action_url(
        payment_pages, PaymentAllocateView, "payments/<int:pk>/allocate/", "payment_allocate"
    ),
    action_url(payment_pages, PaymentCancelView, "payments/<int:pk>/cancel/", "payment_cancel"),
    *bill_pages.urls("bills"),
    action_url(bill_pages, BillPostView, "bills/<int:pk>/post/", "bill_post"),
    action_url(bill_pages, BillCancelView, "bills/<int:pk>/cancel/", "bill_cancel"),
    action_url(bill_pages, BillPayView, "bills/<int:pk>/pay/", "bill_pay"),
    *billpayment_pages.urls("bill-payments"),
    action_url(
        billpayment_pages,
        BillPaymentCancelView,
        "bill-payments/<int:pk>/cancel/",
        "billpayment_cancel",
    ),
]
