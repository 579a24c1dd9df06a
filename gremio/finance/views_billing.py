"""The dues batch page: preview a month's dues invoices, then issue them."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gremio.core.jobs import start_job
from gremio.core.permissions import can

from .billing import dues_batch_job, dues_invoice_batch, dues_to_bill
from .models import InvoiceSeries

# More intervals than this are billed by a background job with a progress bar.
INLINE_LIMIT = 2000


class DuesBatchForm(forms.Form):
    month = forms.DateField(
        label=gettext_lazy("Month"),
        widget=forms.DateInput(attrs={"type": "month"}, format="%Y-%m"),
        input_formats=["%Y-%m", "%Y-%m-%d"],
        help_text=gettext_lazy("Memberships whose billing interval starts in this month."),
    )


def dues_batch(request: HttpRequest, org: str) -> HttpResponse:
    """GET previews what a month's batch would bill; POST issues it."""
    organisation = request.organisation  # type: ignore[attr-defined]
    if not can(request.user, "finance.view_invoice", organisation):
        raise PermissionDenied
    may_issue = can(request.user, "finance.add_invoice", organisation)
    data = request.POST if request.method == "POST" else request.GET
    today = timezone.localdate()
    form = DuesBatchForm(data if "month" in data else None, initial={"month": today.replace(day=1)})
    preview = None
    if form.is_bound and form.is_valid():
        month: dt.date = form.cleaned_data["month"].replace(day=1)
        if request.method == "POST":
            if not may_issue:
                raise PermissionDenied
            return _issue(request, organisation, month)
        todo, already = dues_to_bill(organisation=organisation, month=month)
        preview = {
            "month": month,
            "count": len(todo),
            "already_billed": already,
            "subtotal": sum((item[3] for item in todo), start=0),
            "rows": todo[:50],
            "background": len(todo) > INLINE_LIMIT,
        }
    has_series = InvoiceSeries.objects.filter(
        organisation=organisation, kind=InvoiceSeries.Kind.INVOICE, active=True
    ).exists()
    return render(
        request,
        "finance/dues_batch.html",
        {
            "organisation": organisation,
            "form": form,
            "preview": preview,
            "may_issue": may_issue,
            "has_series": has_series,
        },
    )


def _issue(request: HttpRequest, organisation: object, month: dt.date) -> HttpResponse:
    todo, _already = dues_to_bill(organisation=organisation, month=month)  # type: ignore[arg-type]
    if len(todo) > INLINE_LIMIT:
        job = start_job(
            organisation=organisation,  # type: ignore[arg-type]
            user=request.user,
            name=_("Dues invoices for {month}").format(month=month.strftime("%Y-%m")),
            function=dues_batch_job,
            month=month.isoformat(),
            user_id=request.user.pk,
        )
        return HttpResponseRedirect(job.get_absolute_url())
    try:
        result = dues_invoice_batch(
            organisation=organisation,  # type: ignore[arg-type]
            month=month,
            user=request.user,
        )
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(
            request,
            _("{issued} dues invoices issued for {month}; {skipped} were already billed.").format(
                issued=result.issued,
                month=month.strftime("%Y-%m"),
                skipped=result.already_billed,
            ),
        )
    url = reverse("finance:dues_batch", kwargs={"org": organisation.slug})  # type: ignore[attr-defined]
    return HttpResponseRedirect(f"{url}?month={month:%Y-%m}")


urlpatterns = [path("dues/", dues_batch, name="dues_batch")]
