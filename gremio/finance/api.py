"""API of the finance module: the chart, the ledger, documents and their actions.

Every write goes through ``services.py`` (or ``setup.py``), as the pages'
do; a refused operation is a 400 with the service's own message, field by
field where the service names one, and writes nothing. Documents that have
posted are never edited or deleted here: they are cancelled or reversed by
an action (``POST …/{id}/cancel/``), which posts the undoing entry.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, ClassVar

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Model, Prefetch, ProtectedError, QuerySet
from django.http import HttpResponse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import (
    exceptions,
    mixins,
    pagination,
    permissions,
    renderers,
    serializers,
    status,
)
from rest_framework.decorators import action
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings

from gremio.core.api import (
    METHOD_ACTIONS,
    ORG_PARAMETER,
    OrganisationGenericViewSet,
    OrganisationModelSerializer,
    organisation_viewset,
)
from gremio.core.permissions import can, perm_name, roles_for
from gremio.core.roles import CHANGE, VIEW, Role

from . import filtersets, pdf, services
from .models import (
    ZERO,
    Account,
    Allocation,
    Bill,
    BillLine,
    BillPayment,
    Budget,
    FiscalYear,
    Invoice,
    InvoiceLine,
    InvoiceSeries,
    JournalEntry,
    JournalLine,
    Payment,
    Period,
)
from .posting import Line
from .setup import fiscal_year_create

# Errors -----------------------------------------------------------------------------


def api_errors(error: DjangoValidationError, rename: dict[str, str] | None = None) -> Any:
    """A Django ``ValidationError`` as DRF's error body: fields, or ``non_field_errors``."""
    if not hasattr(error, "error_dict"):
        return {api_settings.NON_FIELD_ERRORS_KEY: error.messages}
    errors: dict[str, list[str]] = {}
    for field, messages in error.message_dict.items():
        if field == NON_FIELD_ERRORS:
            key = api_settings.NON_FIELD_ERRORS_KEY
        else:
            key = (rename or {}).get(field, field)
        errors.setdefault(key, []).extend(messages)
    return errors


@contextmanager
def service_errors(rename: dict[str, str] | None = None) -> Iterator[None]:
    """Turns a service's refusal into a 400 (the service's transaction wrote nothing)."""
    try:
        yield
    except DjangoValidationError as error:
        raise serializers.ValidationError(api_errors(error, rename)) from error


class InUse(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("This record is in use by other records and cannot be deleted.")
    default_code = "in_use"


def delete_unused(instance: Model) -> None:
    """Delete a record nothing refers to; one in use is a 409 that names it."""
    try:
        with transaction.atomic():
            instance.delete()
    except ProtectedError as error:
        raise InUse(
            gettext("“{object}” is in use by other records and cannot be deleted.").format(
                object=instance
            )
        ) from error


@transaction.atomic
# Permissions and the base viewset -------------------------------------------------------


class FinancePermission(permissions.BasePermission):
    """The role map's answer, with each action (close, issue…) mapped to view/add/change."""

    @staticmethod
    def right(request: Request, view: Any) -> str:
        rights: dict[str, str] = getattr(view, "action_rights", {})
        return rights.get(view.action) or METHOD_ACTIONS.get(request.method or "GET", CHANGE)

    def has_permission(self, request: Request, view: Any) -> bool:
        model = view.get_queryset().model
        return can(request.user, perm_name(model, self.right(request, view)), request.organisation)  # type: ignore[attr-defined]

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        return can(request.user, perm_name(obj, self.right(request, view)), obj)


class FinanceViewSet(OrganisationGenericViewSet):
    permission_classes = (permissions.IsAuthenticated, FinancePermission)  # type: ignore[assignment]
    #: action name -> the permission it needs ("change" for close, issue, post…).
    action_rights: ClassVar[dict[str, str]] = {}

    @property
    def organisation(self) -> Any:
        return self.request.organisation  # type: ignore[attr-defined]

    def reload(self, obj: Model) -> Any:
        """``obj`` again through the list's queryset, with its related rows prefetched."""
        return self.get_queryset().get(pk=obj.pk)

    def answer(self, obj: Model, serializer: Any = None, code: int = status.HTTP_200_OK) -> Any:
        serializer = serializer or self.serializer_class
        return Response(serializer(obj, context=self.get_serializer_context()).data, status=code)

    def action_input(self, serializer: Any) -> dict[str, Any]:
        """The validated body of an action (its serializer is given, not the viewset's)."""
        data = serializer(data=self.request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        return dict(data.validated_data)

    def cancel_payment(self, service: Any) -> Response:
        """Cancel the payment (received or made) with ``service`` on the body's date and
        reason; answers it as it is then."""
        payment = self.get_object()  # another organisation's is a 404 whatever the body
        data = self.action_input(CancelSerializer)
        with service_errors():
            payment = service(
                payment=payment,
                date=data.get("date"),
                reason=data.get("reason", ""),
                user=self.request.user,
            )
        return self.answer(self.reload(payment))

    def perform_create(self, serializer: Any) -> None:
        serializer.save()
        serializer.instance = self.reload(serializer.instance)

    def perform_update(self, serializer: Any) -> None:
        serializer.save()
        serializer.instance = self.reload(serializer.instance)


class CrudViewSet(
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    mixins.ListModelMixin,
    FinanceViewSet,
):
    def perform_create(self, serializer: Any) -> None:
        FinanceViewSet.perform_create(self, serializer)

    def perform_update(self, serializer: Any) -> None:
        FinanceViewSet.perform_update(self, serializer)


class ReadOnlyViewSet(mixins.RetrieveModelMixin, mixins.ListModelMixin, FinanceViewSet):
    pass


def action_schema(*, exclude_parameters: tuple[str, ...] | list[str] = (), **kwargs: Any) -> Any:
    """``extend_schema`` with the organisation's path parameter (every action has it)."""
    excluded = [OpenApiParameter(name, exclude=True) for name in exclude_parameters]
    return extend_schema(parameters=[ORG_PARAMETER, *excluded], **kwargs)


ERRORS = {400: OpenApiResponse(description="Refused, with the reasons field by field.")}


class DateSerializer(serializers.Serializer[Any]):
    date = serializers.DateField(
        required=False, help_text="Defaults to today (or the document's date)."
    )


def account_takes_entries(account: Account | None) -> Account | None:
    if account is not None and not account.postable:
        raise serializers.ValidationError(
            gettext("{account} groups other accounts and takes no entries.").format(account=account)
        )
    return account


# Chart of accounts ----------------------------------------------------------------------


class AccountSerializer(OrganisationModelSerializer):
    class Meta:
        model = Account
        fields = ("id", "code", "name", "type", "parent", "postable", "sat_code", "active")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        instance: Account | None = self.instance
        parent = attrs.get("parent", getattr(instance, "parent", None))
        postable = attrs.get("postable", getattr(instance, "postable", True))
        errors: dict[str, str] = {}
        if parent is not None:
            if parent.postable:
                errors["parent"] = gettext("The parent must be a grouping (non-postable) account.")
            ancestor: Account | None = parent
            while instance is not None and ancestor is not None:
                if ancestor.pk == instance.pk:
                    errors["parent"] = gettext(
                        "An account cannot be placed under itself or one of its sub-accounts."
                    )
                    break
                ancestor = ancestor.parent
        if instance is not None and instance.postable and not postable and instance.lines.exists():
            errors["postable"] = gettext("This account has journal lines: it must stay postable.")
        if (
            instance is not None
            and postable
            and not instance.postable
            and instance.children.exists()
        ):
            errors["postable"] = gettext(
                "This account groups sub-accounts: it cannot take entries."
            )
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class AccountViewSet(CrudViewSet):
    """The chart of accounts. An account in use cannot be deleted (409): deactivate it."""

    queryset = Account.objects.all()
    serializer_class = AccountSerializer
    filterset_class = filtersets.AccountFilterSet

    def perform_destroy(self, instance: Account) -> None:
        delete_unused(instance)


# Fiscal years and periods --------------------------------------------------------------


class PeriodSerializer(serializers.ModelSerializer[Period]):
    fiscal_year_name = serializers.CharField(source="fiscal_year.name", read_only=True)

    class Meta:
        model = Period
        fields = (
            "id",
            "fiscal_year",
            "fiscal_year_name",
            "number",
            "start",
            "end",
            "status",
            "closed_at",
            "closed_by",
        )
        read_only_fields = fields


class FiscalYearSerializer(serializers.ModelSerializer[FiscalYear]):
    periods = PeriodSerializer(many=True, read_only=True)

    class Meta:
        model = FiscalYear
        fields = ("id", "name", "start", "end", "periods")
        read_only_fields = fields


class FiscalYearCreateSerializer(serializers.Serializer[Any]):
    start = serializers.DateField(
        help_text="A day of the new fiscal year; it starts in the organisation's first month."
    )


class FiscalYearViewSet(mixins.CreateModelMixin, ReadOnlyViewSet):
    """Fiscal years with their twelve monthly periods."""

    queryset = FiscalYear.objects.prefetch_related(
        Prefetch("periods", queryset=Period.objects.select_related("fiscal_year"))
    )
    serializer_class = FiscalYearSerializer
    filterset_class = filtersets.FiscalYearFilterSet

    @extend_schema(
        parameters=[ORG_PARAMETER],
        request=FiscalYearCreateSerializer,
        responses={201: FiscalYearSerializer, **ERRORS},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self.action_input(FiscalYearCreateSerializer)
        with service_errors():
            fiscal_year = fiscal_year_create(organisation=self.organisation, start=data["start"])
        return self.answer(self.reload(fiscal_year), code=status.HTTP_201_CREATED)


class PeriodViewSet(ReadOnlyViewSet):
    """Monthly periods. Closing needs the change permission; reopening, an administrator."""

    queryset = Period.objects.select_related("fiscal_year")
    serializer_class = PeriodSerializer
    filterset_class = filtersets.PeriodFilterSet
    action_rights: ClassVar[dict[str, str]] = {"close": CHANGE, "reopen": CHANGE}

    @action_schema(request=None, responses={200: PeriodSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def close(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Close the period: nothing posts into it until an administrator reopens it."""
        with service_errors():
            period = services.period_close(period=self.get_object(), user=request.user)
        return self.answer(self.reload(period))

    @action_schema(
        request=None,
        responses={
            200: PeriodSerializer,
            403: OpenApiResponse(description="Not an administrator."),
            **ERRORS,
        },
    )
    @action(detail=True, methods=["post"])
    def reopen(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Reopen a closed period (administrators only)."""
        period = self.get_object()
        if Role.ADMIN not in roles_for(request.user, self.organisation.pk):
            raise exceptions.PermissionDenied(gettext("Only an administrator can reopen a period."))
        with service_errors():
            period = services.period_reopen(period=period, user=request.user)
        return self.answer(self.reload(period))


# Journal --------------------------------------------------------------------------------


class EntryLineSerializer(OrganisationModelSerializer):
    account_code = serializers.CharField(source="account.code", read_only=True)

    class Meta:
        model = JournalLine
        fields = ("id", "account", "account_code", "debit", "credit", "pillar", "description")
        read_only_fields = ("id",)
        extra_kwargs = {"debit": {"min_value": ZERO}, "credit": {"min_value": ZERO}}


class JournalEntrySerializer(OrganisationModelSerializer):
    """An entry with its lines; posting one takes ``kind``, ``date``, ``memo`` and ``lines``."""

    reference = serializers.CharField(read_only=True)
    reversed_by: Any = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    lines = EntryLineSerializer(many=True)

    class Meta:
        model = JournalEntry
        fields = (
            "id",
            "reference",
            "kind",
            "number",
            "date",
            "fiscal_year",
            "period",
            "memo",
            "company",
            "state",
            "source",
            "total",
            "reverses",
            "reversed_by",
            "posted_at",
            "posted_by",
            "lines",
        )
        read_only_fields = ("company",)


class JournalEntryViewSet(mixins.CreateModelMixin, ReadOnlyViewSet):
    """Journal entries (pólizas) with their lines. Posted, an entry is reversed, never edited."""

    queryset = JournalEntry.objects.select_related("fiscal_year", "reversed_by").prefetch_related(
        Prefetch("lines", queryset=JournalLine.objects.select_related("account"))
    )
    serializer_class = JournalEntrySerializer
    filterset_class = filtersets.JournalEntryFilterSet

    @extend_schema(
        parameters=[ORG_PARAMETER],
        responses={201: JournalEntrySerializer, **ERRORS},
        description="Post a manual entry in one call: it balances or nothing is written.",
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self.action_input(JournalEntrySerializer)
        lines = [
            Line(
                account=line["account"],
                debit=line.get("debit") or ZERO,
                credit=line.get("credit") or ZERO,
                pillar_id=line["pillar"].pk if line.get("pillar") else None,
                description=line.get("description", ""),
            )
            for line in data["lines"]
        ]
        with service_errors():
            entry = services.entry_post(
                organisation=self.organisation,
                date=data["date"],
                memo=data["memo"],
                kind=data.get("kind") or "journal",
                lines=lines,
                user=request.user,
            )
        return self.answer(self.reload(entry), code=status.HTTP_201_CREATED)

    @action_schema(request=DateSerializer, responses={201: JournalEntrySerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def reverse(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Post the entry that undoes this one, on ``date`` (the entry's own date by default)."""
        entry = self.get_object()
        data = self.action_input(DateSerializer)
        with service_errors():
            reversal = services.entry_reverse(entry=entry, date=data.get("date"), user=request.user)
        return self.answer(self.reload(reversal), code=status.HTTP_201_CREATED)


class JournalLineSerializer(serializers.ModelSerializer[JournalLine]):
    entry_reference = serializers.CharField(source="entry.reference", read_only=True)
    date = serializers.DateField(source="entry.date", read_only=True)
    account_code = serializers.CharField(source="account.code", read_only=True)
    account_name = serializers.CharField(source="account.name", read_only=True)

    class Meta:
        model = JournalLine
        fields = (
            "id",
            "entry",
            "entry_reference",
            "date",
            "period",
            "account",
            "account_code",
            "account_name",
            "debit",
            "credit",
            "pillar",
            "description",
        )
        read_only_fields = fields


class LinePagination(pagination.CursorPagination):
    """Newest first, with no COUNT(*) over millions of lines."""

    ordering = ("-id",)
    page_size = 50


class JournalLineViewSet(ReadOnlyViewSet):
    """Journal lines (movimientos): what is behind a report figure, page by page (cursor)."""

    queryset = JournalLine.objects.select_related("entry__fiscal_year", "account")
    serializer_class = JournalLineSerializer
    filterset_class = filtersets.JournalLineFilterSet
    pagination_class = LinePagination
    ordering_fields: tuple[str, ...] = ()


# Invoices -----------------------------------------------------------------------------


class InvoiceLineSerializer(OrganisationModelSerializer):
    class Meta:
        model = InvoiceLine
        fields = (
            "id",
            "description",
            "service",
            "account",
            "pillar",
            "quantity",
            "unit_price",
            "vat_rate",
            "amount",
            "vat",
        )
        read_only_fields = ("id", "amount", "vat")

    def validate_account(self, value: Account) -> Account | None:
        return account_takes_entries(value)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        return attrs


def line_copies(lines: QuerySet[Any]) -> list[Any]:
    """A document's saved lines, unsaved again, for a service that replaces them."""
    copies = list(lines)
    for line in copies:
        line.pk = None
    return copies


class DocumentWithLines:
    """Create and update an invoice or a bill with its nested lines, through its service."""

    line_model: Any
    context: dict[str, Any]
    Meta: Any

    def save_document(self, document: Any, lines: list[Any]) -> Any:
        raise NotImplementedError

    def create(self, validated_data: dict[str, Any]) -> Any:
        organisation = self.context["request"].organisation
        lines = [self.line_model(**line) for line in validated_data.pop("lines")]
        validated_data.setdefault("currency", organisation.currency)
        document = self.Meta.model(organisation=organisation, **validated_data)
        with service_errors():
            return self.save_document(document, lines)

    def update(self, instance: Any, validated_data: dict[str, Any]) -> Any:
        given = validated_data.pop("lines", None)
        lines = (
            [self.line_model(**line) for line in given]
            if given is not None
            else line_copies(instance.lines.all())
        )
        for name, value in validated_data.items():
            setattr(instance, name, value)
        with service_errors():
            return self.save_document(instance, lines)


class InvoiceSerializer(DocumentWithLines, OrganisationModelSerializer):
    reference = serializers.CharField(read_only=True)
    balance_due = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True)
    credit_note: Any = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    lines = InvoiceLineSerializer(many=True, allow_empty=False)

    class Meta:
        model = Invoice
        fields = (
            "id",
            "reference",
            "series",
            "number",
            "is_credit_note",
            "company",
            "date",
            "due_date",
            "currency",
            "language",
            "state",
            "subtotal",
            "vat",
            "total",
            "amount_paid",
            "balance_due",
            "closed_on",
            "days_to_pay",
            "cancelled_on",
            "entry",
            "credit_note_for",
            "credit_note",
            "membership",
            "billed_from",
            "billed_to",
            "sector",
            "chamber",
            "notes",
            "created",
            "lines",
        )
        read_only_fields = (
            "number",
            "is_credit_note",
            "state",
            "subtotal",
            "vat",
            "total",
            "amount_paid",
            "closed_on",
            "days_to_pay",
            "cancelled_on",
            "entry",
            "credit_note_for",
            "sector",
            "chamber",
            "created",
        )
        extra_kwargs = {"currency": {"required": False}}

    def validate_series(self, value: InvoiceSeries) -> InvoiceSeries:
        if value.kind != InvoiceSeries.Kind.INVOICE:
            raise serializers.ValidationError(gettext("Choose a series of invoices."))
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        company = attrs.get("company", getattr(self.instance, "company", None))
        membership = attrs.get("membership", getattr(self.instance, "membership", None))
        if membership is not None and company is not None and membership.company_id != company.pk:
            raise serializers.ValidationError(
                {"membership": gettext("This membership is another company's.")}
            )
        return attrs

    line_model = InvoiceLine

    def save_document(self, document: Any, lines: list[Any]) -> Any:
        return services.invoice_save(invoice=document, lines=lines)


class PdfRenderer(renderers.BaseRenderer):
    """Lets a client ask for ``Accept: application/pdf``; errors still read as JSON."""

    media_type = "application/pdf"
    format = "pdf"
    charset = None
    render_style = "binary"

    def render(
        self, data: Any, accepted_media_type: Any = None, renderer_context: Any = None
    ) -> Any:
        if isinstance(data, bytes):
            return data
        return JSONRenderer().render(data)


class InvoiceViewSet(CrudViewSet):
    """Invoices and credit notes with their lines. Only drafts are changed or deleted."""

    queryset = Invoice.objects.select_related("series", "credit_note").prefetch_related("lines")
    serializer_class = InvoiceSerializer
    filterset_class = filtersets.InvoiceFilterSet
    action_rights: ClassVar[dict[str, str]] = {"issue": CHANGE, "cancel": CHANGE, "pdf": VIEW}

    def perform_destroy(self, instance: Invoice) -> None:
        with service_errors():
            services.document_delete(document=instance)

    @action_schema(request=None, responses={200: InvoiceSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def issue(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Number the draft in its series and post it."""
        with service_errors():
            invoice = services.invoice_issue(invoice=self.get_object(), user=request.user)
        return self.answer(self.reload(invoice))

    @action_schema(request=DateSerializer, responses={201: InvoiceSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Cancel an unpaid issued invoice; answers the credit note that reverses it."""
        invoice = self.get_object()
        data = self.action_input(DateSerializer)
        with service_errors():
            credit_note = services.invoice_cancel(
                invoice=invoice, date=data.get("date"), user=request.user
            )
        return self.answer(self.reload(credit_note), code=status.HTTP_201_CREATED)

    @action_schema(
        # The PDF is the answer whatever the format; ``Accept: application/pdf`` is welcome.
        exclude_parameters=["format"],
        responses={
            (200, "application/pdf"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The PDF, in the invoice's language."
            )
        },
    )
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, PdfRenderer])
    def pdf(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:
        """The invoice as a PDF (a draft carries a watermark)."""
        invoice = self.get_object()
        response = HttpResponse(pdf.invoice_pdf(invoice), content_type="application/pdf")
        name = invoice.reference or f"draft-{invoice.pk}"
        response["Content-Disposition"] = (
            f'attachment; filename="{self.organisation.slug}-{name}.pdf"'
        )
        return response


class InvoiceSeriesSerializer(OrganisationModelSerializer):
    class Meta:
        model = InvoiceSeries
        fields = ("id", "prefix", "name", "kind", "active")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        instance: InvoiceSeries | None = self.instance
        if instance is not None and instance.invoices.exists():
            for name in ("prefix", "kind"):
                if name in attrs and attrs[name] != getattr(instance, name):
                    raise serializers.ValidationError(
                        {name: gettext("The series has invoices: this cannot change.")}
                    )
        return attrs


class InvoiceSeriesViewSet(CrudViewSet):
    """Numbering series of invoices and credit notes. A series in use cannot be deleted."""

    queryset = InvoiceSeries.objects.all()
    serializer_class = InvoiceSeriesSerializer
    filterset_class = filtersets.InvoiceSeriesFilterSet

    def perform_destroy(self, instance: InvoiceSeries) -> None:
        delete_unused(instance)


# Payments received ---------------------------------------------------------------------


POSITIVE = {"min_value": Decimal("0.01")}


class AllocationSerializer(OrganisationModelSerializer):
    invoice_reference = serializers.CharField(source="invoice.reference", read_only=True)

    class Meta:
        model = Allocation
        fields = (
            "id",
            "payment",
            "invoice",
            "invoice_reference",
            "date",
            "amount",
            "entry",
            "cancelled_on",
        )
        read_only_fields = ("payment", "date", "cancelled_on")
        extra_kwargs = {"amount": {**POSITIVE, "required": True}}


class PaymentSerializer(OrganisationModelSerializer):
    """A payment received; recording one allocates it to invoices in the same call."""

    unallocated = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True)
    allocations = AllocationSerializer(many=True, required=False)

    class Meta:
        model = Payment
        fields = (
            "id",
            "company",
            "date",
            "amount",
            "currency",
            "method",
            "bank_account",
            "reference",
            "allocated",
            "unallocated",
            "entry",
            "sector",
            "chamber",
            "notes",
            "cancelled_on",
            "cancellation_reason",
            "cancellation_entry",
            "allocations",
        )
        read_only_fields = (
            "sector",
            "chamber",
            "cancelled_on",
            "cancellation_reason",
            "cancellation_entry",
        )
        extra_kwargs = {
            "amount": {**POSITIVE, "required": True},
            "bank_account": {"required": False},
            "currency": {"required": False},
        }

    def validate_bank_account(self, value: Account) -> Account | None:
        return account_takes_entries(value)


class AllocateSerializer(OrganisationModelSerializer):
    class Meta:
        model = Allocation
        fields = ("invoice", "amount", "date")
        extra_kwargs = {"amount": {**POSITIVE, "required": True}, "date": {"required": False}}


class CancelSerializer(serializers.Serializer[Any]):
    date = serializers.DateField(
        required=False,
        help_text="The day the reversal entries post; defaults to today "
        "(or the payment's last allocation, if later).",
    )
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="Why, as in “cheque returned by the bank”; kept on the payment and the "
        "reversal entry.",
    )


class PaymentViewSet(mixins.CreateModelMixin, ReadOnlyViewSet):
    """Payments received with their allocations. A payment posts when it is recorded;
    a cancelled one keeps its allocations as history, each with ``cancelled_on``."""

    queryset = Payment.objects.prefetch_related(
        Prefetch("allocations", queryset=Allocation.objects.select_related("invoice__series"))
    )
    serializer_class = PaymentSerializer
    filterset_class = filtersets.PaymentFilterSet
    action_rights: ClassVar[dict[str, str]] = {"allocate": CHANGE, "cancel": CHANGE}

    @extend_schema(
        parameters=[ORG_PARAMETER],
        responses={201: PaymentSerializer, **ERRORS},
        description=(
            "Record money received and allocate it to the company's open invoices; "
            "what is not allocated stays as the company's credit."
        ),
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self.action_input(PaymentSerializer)
        allocations = [(row["invoice"], row["amount"]) for row in data.pop("allocations", [])]
        with service_errors(rename={"invoice": "allocations"}):
            payment = services.payment_receive(
                organisation=self.organisation,
                allocations=allocations,
                user=request.user,
                **data,
            )
        return self.answer(self.reload(payment), code=status.HTTP_201_CREATED)

    @action_schema(request=AllocateSerializer, responses={201: AllocationSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def allocate(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Apply part of the payment's unallocated credit to one of the company's invoices."""
        payment = self.get_object()
        data = self.action_input(AllocateSerializer)
        with service_errors():
            allocation = services.payment_allocate(
                payment=payment,
                invoice=data["invoice"],
                amount=data["amount"],
                date=data.get("date"),
                user=request.user,
            )
        allocation = Allocation.objects.select_related("invoice__series").get(pk=allocation.pk)
        return self.answer(allocation, AllocationSerializer, status.HTTP_201_CREATED)

    @action_schema(request=CancelSerializer, responses={200: PaymentSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Cancel the payment (a bounced cheque, a transfer recorded twice…).

        Posts on ``date`` the reversal of the payment's entry
        (``cancellation_entry``) and of the entry of each credit of it applied
        later; its allocations are cancelled and the invoices they paid owe
        the amounts again (a paid one is issued again). Refused (400) for a
        payment already cancelled, a date before the payment or one of its
        allocations, or a date in a closed period or on or before the lock date.
        """
        return self.cancel_payment(services.payment_cancel)


# Supplier bills -----------------------------------------------------------------------


class BillLineSerializer(OrganisationModelSerializer):
    class Meta:
        model = BillLine
        fields = ("id", "description", "account", "pillar", "amount", "vat_rate", "vat")
        read_only_fields = ("id", "vat")

    def validate_account(self, value: Account) -> Account | None:
        return account_takes_entries(value)


class BillSerializer(DocumentWithLines, OrganisationModelSerializer):
    balance_due = serializers.DecimalField(max_digits=16, decimal_places=2, read_only=True)
    lines = BillLineSerializer(many=True, allow_empty=False)

    class Meta:
        model = Bill
        fields = (
            "id",
            "supplier",
            "supplier_reference",
            "date",
            "due_date",
            "currency",
            "state",
            "subtotal",
            "vat",
            "total",
            "amount_paid",
            "balance_due",
            "closed_on",
            "entry",
            "notes",
            "lines",
        )
        read_only_fields = (
            "state",
            "subtotal",
            "vat",
            "total",
            "amount_paid",
            "closed_on",
            "entry",
        )
        extra_kwargs = {"currency": {"required": False}}

    line_model = BillLine

    def save_document(self, document: Any, lines: list[Any]) -> Any:
        return services.bill_save(bill=document, lines=lines)


class BillPaymentSerializer(serializers.ModelSerializer[BillPayment]):
    class Meta:
        model = BillPayment
        fields = (
            "id",
            "bill",
            "date",
            "amount",
            "method",
            "bank_account",
            "reference",
            "entry",
            "cancelled_on",
            "cancellation_reason",
            "cancellation_entry",
        )
        read_only_fields = fields


class BillPayInputSerializer(OrganisationModelSerializer):
    class Meta:
        model = BillPayment
        fields = ("date", "amount", "method", "bank_account", "reference")
        extra_kwargs = {
            "amount": {**POSITIVE, "required": True},
            "bank_account": {"required": False},
        }

    def validate_bank_account(self, value: Account) -> Account | None:
        return account_takes_entries(value)


class BillViewSet(CrudViewSet):
    """Supplier bills with their lines. Only drafts are changed or deleted."""

    queryset = Bill.objects.prefetch_related("lines")
    serializer_class = BillSerializer
    filterset_class = filtersets.BillFilterSet
    action_rights: ClassVar[dict[str, str]] = {"post": CHANGE, "cancel": CHANGE, "pay": CHANGE}

    def perform_destroy(self, instance: Bill) -> None:
        with service_errors():
            services.document_delete(document=instance)

    @action_schema(request=None, responses={200: BillSerializer, **ERRORS})
    @action(detail=True, methods=["post"], url_path="post", url_name="post")
    def post_bill(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Post the draft: the expenses and creditable VAT against payables."""
        with service_errors():
            bill = services.bill_post(bill=self.get_object(), user=request.user)
        return self.answer(self.reload(bill))

    @action_schema(request=DateSerializer, responses={200: BillSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Cancel an unpaid posted bill by reversing its entry."""
        bill = self.get_object()
        data = self.action_input(DateSerializer)
        with service_errors():
            bill = services.bill_cancel(bill=bill, date=data.get("date"), user=request.user)
        return self.answer(self.reload(bill))

    @action_schema(request=BillPayInputSerializer, responses={201: BillPaymentSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def pay(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Pay (part of) a posted bill."""
        bill = self.get_object()
        data = self.action_input(BillPayInputSerializer)
        with service_errors():
            payment = services.bill_pay(bill=bill, user=request.user, **data)
        return self.answer(payment, BillPaymentSerializer, status.HTTP_201_CREATED)


class BillPaymentViewSet(ReadOnlyViewSet):
    """Payments made to suppliers (recorded with ``POST bills/{id}/pay/``, cancelled with
    ``POST bill-payments/{id}/cancel/``)."""

    queryset = BillPayment.objects.all()
    serializer_class = BillPaymentSerializer
    filterset_class = filtersets.BillPaymentFilterSet
    action_rights: ClassVar[dict[str, str]] = {"cancel": CHANGE}

    @action_schema(request=CancelSerializer, responses={200: BillPaymentSerializer, **ERRORS})
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Cancel a payment made: posts on ``date`` the reversal of its entry
        (``cancellation_entry``); the bill owes the amount again (a paid one is to pay
        again). Refused (400) for a payment already cancelled, a date before the
        payment, or a date in a closed period or on or before the lock date.
        """
        return self.cancel_payment(services.bill_payment_cancel)


# Budgets ---------------------------------------------------------------------------------


class BudgetSerializer(OrganisationModelSerializer):
    class Meta:
        model = Budget
        fields = ("id", "account", "period", "pillar", "amount")


class BudgetViewSet(CrudViewSet):
    """The amount planned per account (and pillar) and period."""

    queryset = Budget.objects.all()
    serializer_class = BudgetSerializer
    filterset_class = filtersets.BudgetFilterSet


# Registration ------------------------------------------------------------------------------

VIEWSETS: tuple[tuple[str, type], ...] = (
    ("finance/accounts", AccountViewSet),
    ("finance/fiscal-years", FiscalYearViewSet),
    ("finance/periods", PeriodViewSet),
    ("finance/entries", JournalEntryViewSet),
    ("finance/lines", JournalLineViewSet),
    ("finance/invoices", InvoiceViewSet),
    ("finance/invoice-series", InvoiceSeriesViewSet),
    ("finance/payments", PaymentViewSet),
    ("finance/bills", BillViewSet),
    ("finance/bill-payments", BillPaymentViewSet),
    ("finance/budgets", BudgetViewSet),
)


def register(router: Any) -> None:
    for prefix, viewset in VIEWSETS:
        router.register(prefix, organisation_viewset(viewset), basename=prefix.replace("/", "-"))
