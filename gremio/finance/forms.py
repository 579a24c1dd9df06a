"""Forms of the finance module; related choices are scoped by OrganisationModelForm."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils.formats import date_format, number_format
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from gremio.core.forms import OrganisationModelForm
from gremio.core.models import Organisation, Pillar
from gremio.core.scoping import scope_queryset
from gremio.core.widgets import LookupSelect
from gremio.members.models import Company

from .models import (
    Account,
    AccountType,
    Bill,
    BillLine,
    BillPayment,
    Budget,
    EntryKind,
    FinanceSettings,
    Invoice,
    InvoiceLine,
    InvoiceSeries,
    Payment,
)

# Documents: invoices, payments received, supplier bills ---------------------------------

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
MONEY_INPUT = forms.NumberInput(attrs={"step": "0.01", "min": "0", "class": "text-end"})


def company_lookup() -> LookupSelect:
    return LookupSelect(model_label="members.company")


def document_language(organisation: Organisation, company: Company | None) -> str:
    """An invoice's language: its company's first contact's, else the organisation's."""
    if company is not None:
        language = company.contacts.order_by("pk").values_list("language", flat=True).first()
        if language in Invoice.Language.values:
            return str(language)
    return Invoice.Language.EN if organisation.language.startswith("en") else Invoice.Language.ES


class InvoiceSeriesForm(OrganisationModelForm):
    class Meta:
        model = InvoiceSeries
        fields = ("prefix", "name", "kind", "active")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.invoices.filter(number__isnull=False).exists():
            # Its numbers are printed on issued documents: they must keep meaning the same.
            for name in ("prefix", "kind"):
                self.fields[name].disabled = True
                self.fields[name].help_text = _("Fixed once the series has numbered documents.")


class FixedCurrencyMixin:
    """Documents are in the organisation's currency: shown, not chosen."""

    def fix_currency(self, kwargs: dict[str, Any], organisation: Organisation) -> None:
        instance = kwargs.get("instance")
        if instance is not None:
            instance.currency = organisation.currency


class InvoiceForm(FixedCurrencyMixin, OrganisationModelForm):
    currency = forms.CharField(label=_("Currency"), disabled=True, required=False)
    language = forms.ChoiceField(
        label=_("Language"),
        required=False,
        choices=[("", _("As the company's contact")), *Invoice.Language.choices],
        help_text=_("The language the invoice is printed in."),
    )

    class Meta:
        model = Invoice
        fields = ("series", "company", "date", "due_date", "language", "currency", "notes")
        widgets = {
            "company": company_lookup(),
            "date": DATE_INPUT,
            "due_date": DATE_INPUT,
            "notes": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any) -> None:
        self.fix_currency(kwargs, organisation)
        super().__init__(*args, organisation=organisation, **kwargs)
        series = self.fields["series"]
        series.queryset = series.queryset.filter(kind=InvoiceSeries.Kind.INVOICE)  # type: ignore[attr-defined]

    def clean_language(self) -> str:
        return self.cleaned_data.get("language") or document_language(
            self.organisation, self.cleaned_data.get("company")
        )


class DocumentLineFormSet(forms.BaseFormSet):
    """Lines of a document; blank extra rows are ignored, at least one line is needed."""

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        if not self.lines_data():
            raise forms.ValidationError(_("Add at least one line."), code="no_lines")

    def lines_data(self) -> list[Any]:
        return [
            form
            for form in self.forms
            if getattr(form, "cleaned_data", None) and not form.cleaned_data.get("DELETE")
        ]

    def instances(self) -> list[Any]:
        return [form.save(commit=False) for form in self.lines_data()]


class InvoiceLineForm(OrganisationModelForm):
    class Meta:
        model = InvoiceLine
        fields = (
            "description",
            "service",
            "account",
            "pillar",
            "quantity",
            "unit_price",
            "vat_rate",
        )
        widgets = {
            "quantity": forms.NumberInput(attrs={"step": "0.01", "min": "0", "class": "text-end"}),
            "unit_price": MONEY_INPUT,
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        account = self.fields["account"]
        account.queryset = account.queryset.filter(  # type: ignore[attr-defined]
            type=AccountType.INCOME, postable=True
        )


InvoiceLineFormSet = forms.formset_factory(
    InvoiceLineForm, formset=DocumentLineFormSet, extra=2, can_delete=True
)


class InvoiceCancelForm(forms.Form):
    date = forms.DateField(
        label=_("Credit note date"),
        required=False,
        widget=DATE_INPUT,
        help_text=_("Today if left empty."),
    )


class PaymentCancelForm(forms.Form):
    """When and why a payment (received or made) is cancelled."""

    date = forms.DateField(
        label=_("Cancellation date"),
        required=False,
        widget=DATE_INPUT,
        help_text=_("Today if left empty. The reversal entries post on this date."),
    )
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=200,
        help_text=_("As in “cheque returned by the bank”; it goes on the reversal entry."),
    )


class PaymentCompanyForm(forms.Form):
    """The first step of recording a payment: whose money is it."""

    company = forms.ModelChoiceField(
        label=_("Company"), queryset=Company.objects.all(), widget=company_lookup()
    )

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["company"]
        field.queryset = scope_queryset(field.queryset, organisation)  # type: ignore[attr-defined]


class PaymentForm(OrganisationModelForm):
    class Meta:
        model = Payment
        fields = ("company", "date", "amount", "method", "bank_account", "reference", "notes")
        widgets = {
            "company": forms.HiddenInput,
            "date": DATE_INPUT,
            "amount": MONEY_INPUT,
            "notes": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        bank = self.fields["bank_account"]
        bank.queryset = bank.queryset.filter(  # type: ignore[attr-defined]
            type=AccountType.ASSET, postable=True
        )


class AllocationForm(forms.Form):
    """One open invoice of the payment's company and how much of the payment goes to it."""

    invoice = forms.IntegerField(widget=forms.HiddenInput)
    amount = forms.DecimalField(
        label=_("Amount to allocate"),
        required=False,
        min_value=Decimal("0.01"),
        max_digits=16,
        decimal_places=2,
        widget=MONEY_INPUT,
    )


AllocationFormSet = forms.formset_factory(AllocationForm, extra=0)


class PaymentAllocateForm(forms.Form):
    """Apply a payment's unallocated credit to one of its company's open invoices."""

    invoice = forms.ModelChoiceField(label=_("Invoice"), queryset=Invoice.objects.none())
    amount = forms.DecimalField(
        label=_("Amount"),
        min_value=Decimal("0.01"),
        max_digits=16,
        decimal_places=2,
        widget=MONEY_INPUT,
    )
    date = forms.DateField(
        label=_("Date"), required=False, widget=DATE_INPUT, help_text=_("Today if left empty.")
    )

    def __init__(self, *args: Any, invoices: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["invoice"]
        field.queryset = invoices  # type: ignore[attr-defined]
        field.label_from_instance = invoice_choice_label  # type: ignore[attr-defined]


def invoice_choice_label(invoice: Invoice) -> str:
    return str(_("{number} of {date}, owes {due}")).format(
        number=invoice.reference,
        date=date_format(invoice.date, "SHORT_DATE_FORMAT"),
        due=number_format(invoice.balance_due, 2, force_grouping=True),
    )


class BillForm(FixedCurrencyMixin, OrganisationModelForm):
    currency = forms.CharField(label=_("Currency"), disabled=True, required=False)

    class Meta:
        model = Bill
        fields = ("supplier", "supplier_reference", "date", "due_date", "currency", "notes")
        widgets = {
            "supplier": company_lookup(),
            "date": DATE_INPUT,
            "due_date": DATE_INPUT,
            "notes": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any) -> None:
        self.fix_currency(kwargs, organisation)
        super().__init__(*args, organisation=organisation, **kwargs)


class BillLineForm(OrganisationModelForm):
    class Meta:
        model = BillLine
        fields = ("description", "account", "pillar", "amount", "vat_rate")
        widgets = {"amount": MONEY_INPUT}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        account = self.fields["account"]
        account.queryset = account.queryset.filter(  # type: ignore[attr-defined]
            type__in=(AccountType.EXPENSE, AccountType.ASSET), postable=True
        )


BillLineFormSet = forms.formset_factory(
    BillLineForm, formset=DocumentLineFormSet, extra=2, can_delete=True
)


class BillPayForm(OrganisationModelForm):
    class Meta:
        model = BillPayment
        fields = ("date", "amount", "bank_account", "method", "reference")
        widgets = {"date": DATE_INPUT, "amount": MONEY_INPUT}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        bank = self.fields["bank_account"]
        bank.queryset = bank.queryset.filter(  # type: ignore[attr-defined]
            type=AccountType.ASSET, postable=True
        )


# Ledger: accounts, fiscal years, settings, manual entries, budgets ---------------------------


def service_errors(form: forms.BaseForm, error: ValidationError) -> None:
    """Show a service's ValidationError on ``form``: on the field it names, if the form has it."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


class ConstraintErrorsOnFieldsForm(OrganisationModelForm):
    """Shows a unique constraint's error on the field it is about, not above the form.

    ``constraint_fields`` maps a constraint's name to that field.
    """

    constraint_fields: dict[str, str] = {}

    def _post_clean(self) -> None:
        super()._post_clean()  # type: ignore[misc]
        errors = self.errors.get(NON_FIELD_ERRORS)
        if not errors:
            return
        targets = {
            str(constraint.get_violation_error_message()): self.constraint_fields[constraint.name]
            for constraint in self._meta.model._meta.constraints
            if self.constraint_fields.get(constraint.name) in self.fields
        }
        found = errors.as_data()
        del self.errors[NON_FIELD_ERRORS]
        for error in found:
            self.add_error(targets.get(" ".join(error.messages)), error)


#: The accounts the finance settings name, and the type each must be.
SETTINGS_ACCOUNT_TYPES = {
    "receivable_account": AccountType.ASSET,
    "customer_advance_account": AccountType.LIABILITY,
    "payable_account": AccountType.LIABILITY,
    "vat_output_account": AccountType.LIABILITY,
    "vat_input_account": AccountType.ASSET,
    "bank_account": AccountType.ASSET,
    "dues_income_account": AccountType.INCOME,
    "retained_earnings_account": AccountType.EQUITY,
}


def settings_label(name: str) -> str:
    """The name of one of the finance settings, as in "receivables account"."""
    return str(FinanceSettings._meta.get_field(name).verbose_name)  # type: ignore[union-attr]


def account_settings_role(account: Account) -> str | None:
    """The finance setting that names ``account`` ("receivables account"), if any."""
    settings = FinanceSettings.objects.filter(organisation_id=account.organisation_id).first()
    for name in SETTINGS_ACCOUNT_TYPES:
        if settings is not None and getattr(settings, f"{name}_id") == account.pk:
            return settings_label(name)
    return None


class AccountForm(ConstraintErrorsOnFieldsForm):
    constraint_fields = {"finance_account_unique_code": "code"}

    class Meta:
        model = Account
        fields = ("code", "name", "type", "parent", "postable", "sat_code", "active")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        parent: Any = self.fields["parent"]
        # Accounts group under grouping (not postable) accounts, never under themselves.
        parent.queryset = parent.queryset.filter(postable=False).exclude(pk=self.instance.pk)
        parent.help_text = _("A grouping account of the same type.")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        account: Account = self.instance
        parent, kind = data.get("parent"), data.get("type")
        if parent is not None and kind and parent.type != kind:
            self.add_error(
                "parent",
                _(
                    "{parent} is of type {type}; an account of another type cannot go under it."
                ).format(parent=parent, type=parent.get_type_display()),
            )
        if account.pk is None:
            return data
        if parent is not None and self.is_below(parent, account):
            self.add_error(
                "parent", _("An account cannot go under itself or one of its sub-accounts.")
            )
        has_lines = account.lines.exists()
        has_children = account.children.exists()
        if has_lines and data.get("postable") is False:
            self.add_error("postable", _("This account has journal lines: it must stay postable."))
        if has_children and data.get("postable"):
            self.add_error(
                "postable", _("This account has sub-accounts: it groups them and takes no entries.")
            )
        if kind and kind != account.type and (has_lines or has_children):
            self.add_error(
                "type",
                _("The type of an account with journal lines or sub-accounts cannot change."),
            )
        for name in ("postable", "active"):
            if data.get(name) is False and getattr(account, name):
                role = account_settings_role(account)
                if role:
                    self.add_error(
                        name,
                        _(
                            "The finance settings use this account as the {role}: choose another "
                            "there first."
                        ).format(role=role),
                    )
        return data

    @staticmethod
    def is_below(parent: Account, account: Account) -> bool:
        node: Account | None = parent
        for _depth in range(50):  # a chart is a few levels deep; this bounds a damaged one
            if node is None:
                return False
            if node.pk == account.pk:
                return True
            node = node.parent
        return True


class FinanceSettingsForm(OrganisationModelForm):
    """Which account does what, and the payment terms; the lock date has its own form."""

    class Meta:
        model = FinanceSettings
        fields = (*SETTINGS_ACCOUNT_TYPES, "payment_terms_days")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, kind in SETTINGS_ACCOUNT_TYPES.items():
            field: Any = self.fields[name]
            field.queryset = field.queryset.filter(postable=True, type=kind)


class LockDateForm(forms.Form):
    lock_date = forms.DateField(
        label=capfirst(_("lock date")),
        widget=DATE_INPUT,
        help_text=_("Nothing posts on or before this date. It only moves forward."),
    )


class FiscalYearCreateForm(forms.Form):
    """Opening a fiscal year asks only when; the service makes its twelve periods."""

    start = forms.DateField(
        label=capfirst(_("start")),
        widget=DATE_INPUT,
        help_text=_("The fiscal year containing this date opens with its twelve monthly periods."),
    )

    def clean_start(self) -> Any:
        start = self.cleaned_data["start"]
        if not 1900 <= start.year <= 2999:
            raise forms.ValidationError(_("Enter a date between 1900 and 2999."), code="range")
        return start

    def __init__(
        self,
        data: Any = None,
        files: Any = None,
        *,
        organisation: Organisation,
        instance: Any = None,
        initial: Any = None,
    ) -> None:
        super().__init__(data, files, initial=initial)
        self.organisation = organisation
        self.instance = instance


class JournalEntryForm(forms.Form):
    """The head of a manual journal entry; its lines are a JournalLineFormSet."""

    date = forms.DateField(label=_("date"), widget=DATE_INPUT)
    memo = forms.CharField(label=_("description"), max_length=250)
    kind = forms.ChoiceField(label=_("type"), choices=EntryKind.choices, initial=EntryKind.JOURNAL)
    company = forms.ModelChoiceField(
        label=_("company"), queryset=Company.objects.all(), required=False, widget=company_lookup()
    )

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.organisation = organisation
        field = self.fields["company"]
        field.queryset = scope_queryset(field.queryset, organisation)  # type: ignore[attr-defined]


class JournalLineForm(forms.Form):
    """A line of a manual entry. The choices come ready-made: one query for all the rows."""

    account = forms.ChoiceField(label=_("account"))
    description = forms.CharField(label=_("description"), max_length=250, required=False)
    pillar = forms.ChoiceField(label=_("strategic pillar"), required=False)
    debit = forms.DecimalField(
        label=_("debit"),
        required=False,
        min_value=Decimal(0),
        max_digits=16,
        decimal_places=2,
        widget=MONEY_INPUT,
    )
    credit = forms.DecimalField(
        label=_("credit"),
        required=False,
        min_value=Decimal(0),
        max_digits=16,
        decimal_places=2,
        widget=MONEY_INPUT,
    )

    def __init__(
        self, *args: Any, accounts: dict[str, Account], pillars: dict[str, Pillar], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.accounts, self.pillars = accounts, pillars
        blank = ("", "---------")
        account: Any = self.fields["account"]
        account.choices = [blank, *((pk, str(a)) for pk, a in accounts.items())]
        pillar: Any = self.fields["pillar"]
        pillar.choices = [blank, *((pk, str(p)) for pk, p in pillars.items())]

    def clean_account(self) -> Account:
        return self.accounts[self.cleaned_data["account"]]

    def clean_pillar(self) -> Pillar | None:
        return self.pillars.get(self.cleaned_data.get("pillar") or "")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        debit, credit = data.get("debit") or 0, data.get("credit") or 0
        if debit and credit:
            self.add_error("credit", _("A line has a debit or a credit, not both: use two lines."))
        elif not (debit or credit or self.has_error("debit") or self.has_error("credit")):
            self.add_error("debit", _("Enter a debit or a credit."))
        return data


JournalLineFormSet = forms.formset_factory(JournalLineForm, extra=4)


class EntryReverseForm(forms.Form):
    date = forms.DateField(
        label=capfirst(_("reversal date")),
        required=False,
        widget=DATE_INPUT,
        help_text=_("The entry's own date if left empty."),
    )


class BudgetForm(ConstraintErrorsOnFieldsForm):
    constraint_fields = {
        "finance_budget_unique_no_pillar": "period",
        "finance_budget_unique_pillar": "period",
    }

    class Meta:
        model = Budget
        fields = ("account", "period", "pillar", "amount")
        widgets = {"amount": MONEY_INPUT}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        account: Any = self.fields["account"]
        account.queryset = account.queryset.filter(
            postable=True, type__in=(AccountType.INCOME, AccountType.EXPENSE)
        )
