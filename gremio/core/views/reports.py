"""Report pages: the list of reports, and one page that runs any registered report.

A report's page has the period form with its presets, the chart, the table
compared with the previous period, drill-down links and CSV/XLSX/PDF export.
Modules add their report pages with ``report_urls("<module>")`` at the end of
their URL patterns.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, URLPattern, path
from django.utils import timezone
from django.utils.http import urlencode
from django.views import View

from ..permissions import can
from ..reports import (
    DEFAULT_PRESET,
    MONEY,
    NUMERIC,
    PRESETS,
    TEXT,
    Report,
    ReportRun,
    change,
    get_report,
    reports_for,
    run_as_dataset,
    run_report,
)
from .generic import EXPORT_FORMATS, ModelPages

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}
# A report downloads as the lists do (CSV, XLSX), and also as a printable PDF.
REPORT_EXPORT_FORMATS = (*EXPORT_FORMATS, "pdf")


def report_list(request: HttpRequest, org: str, module: str | None = None) -> HttpResponse:
    """The reports this user may see here, of every module or of one."""
    organisation = request.organisation  # type: ignore[attr-defined]
    entries = []
    for report in reports_for(request.user, organisation, module=module):
        entry: dict[str, Any] = {
            "report": report,
            "module_label": apps.get_app_config(report.module).verbose_name,
            "url": None,
            "subject_name": None,
            "subject_list": None,
        }
        if report.subject is None:
            # A report may have no page (API and command line only).
            with contextlib.suppress(NoReverseMatch):
                entry["url"] = _reverse(report.url_name, organisation)
        else:
            entry["subject_name"] = report.subject._meta.verbose_name
            pages = ModelPages.registry.get(report.subject)
            if pages is not None and pages.has("list"):
                entry["subject_list"] = pages.url("list", organisation)
        entries.append(entry)
    return render(
        request,
        "core/report_list.html",
        {
            "organisation": organisation,
            "entries": entries,
            "module": module,
            "module_label": apps.get_app_config(module).verbose_name if module else None,
        },
    )


def _reverse(url_name: str, organisation: Any, **kwargs: Any) -> str:
    from django.urls import reverse

    return reverse(url_name, kwargs={"org": organisation.slug, **kwargs})


class ReportView(View):
    """Runs the report named ``report_key`` for the request's organisation."""

    report_key: str = ""
    model: Any = None  # the subject's model, for reports about one record
    template_name = "core/report.html"
    subject: Any = None

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        organisation = getattr(request, "organisation", None)
        report = get_report(self.report_key)
        if organisation is None or report is None:
            raise Http404
        if not can(request.user, report.permission, organisation):
            raise PermissionDenied
        self.organisation, self.report = organisation, report
        return super().dispatch(request, *args, **kwargs)

    def get_subject(self) -> Any:
        subject = self.report.subject
        if subject is None:
            return None
        try:
            return subject._default_manager.filter(organisation=self.organisation).get(
                pk=self.kwargs["pk"]
            )
        except subject.DoesNotExist as exc:  # type: ignore[attr-defined]
            raise Http404 from exc

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        report, organisation = self.report, self.organisation
        subject = self.subject = self.get_subject()
        data = request.GET.copy()
        export_format = data.pop("export", [None])[-1]
        chosen = any(data.get(name) for name in ("from", "to", "preset"))
        form = report.form(data, organisation=organisation)
        context: dict[str, Any] = {
            "organisation": organisation,
            "report": report,
            "subject": subject,
            "form": form,
            "presets": [(name, label, self.query(preset=name)) for name, label in PRESETS],
            "preset": data.get("preset") if chosen else DEFAULT_PRESET,
            "may_export": can(request.user, report.export_permission, organisation),
            "export_formats": REPORT_EXPORT_FORMATS,
        }
        if not form.is_valid():
            return render(request, self.template_name, context)
        params = form.params()
        if subject is not None:
            params[subject._meta.model_name] = subject
        run = run_report(report, organisation=organisation, period=form.period, params=params)
        if export_format:
            return self.export(run, export_format)
        context.update(
            run=run,
            table=table_rows(run),
            summary=summary_figures(run),
            chart=run.chart(),
            columns=_columns(run),
            export_links=[
                (f, self.query(export=f, keep_period=True)) for f in REPORT_EXPORT_FORMATS
            ],
        )
        return render(request, self.template_name, context)

    def query(self, *, keep_period: bool = False, **values: str) -> str:
        """This page's query string with ``values`` changed; presets replace the dates."""
        data = self.request.GET.copy()
        data.pop("export", None)
        if not keep_period:
            for name in ("from", "to", "preset"):
                data.pop(name, None)
        for name, value in values.items():
            data[name] = value
        return "?" + data.urlencode()

    def export(self, run: ReportRun, export_format: str) -> HttpResponse:
        if export_format not in REPORT_EXPORT_FORMATS:
            raise Http404
        if not can(self.request.user, self.report.export_permission, self.organisation):
            raise PermissionDenied
        body: Any
        if export_format == "pdf":
            body = report_pdf(run, request=self.request, subject=self.subject)
        else:
            body = run_as_dataset(run).export(export_format)
        if isinstance(body, str):
            body = body.encode("utf-8")
        name = self.report.name.replace("_", "-")
        filename = (
            f"{self.organisation.slug}-{name}-{run.period.start:%Y%m%d}-{run.period.end:%Y%m%d}"
        )
        response = HttpResponse(body, content_type=CONTENT_TYPES[export_format])
        response["Content-Disposition"] = f'attachment; filename="{filename}.{export_format}"'
        return response


def report_pdf(run: ReportRun, *, request: HttpRequest | None, subject: Any = None) -> bytes:
    """The page's table as a PDF: title, organisation, period, summary, the table with the
    previous period under each compared figure, and the total, in the reader's language.

    WeasyPrint draws it from a template with its styles inline; it may fetch
    nothing (``data:`` addresses only), so a report never reaches the network.
    """
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    # Its step-by-step progress is not worth a log line per download.
    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
    html = report_pdf_html(run, request=request, subject=subject)
    fetcher = URLFetcher(allowed_protocols=("data",))
    return bytes(HTML(string=html, url_fetcher=fetcher).write_pdf())


def report_pdf_html(run: ReportRun, *, request: HttpRequest | None, subject: Any = None) -> str:
    """The HTML the PDF is drawn from."""
    return render_to_string(
        "core/report_pdf.html",
        {
            "organisation": run.organisation,
            "report": run.report,
            "subject": subject,
            "run": run,
            "table": table_rows(run),
            "summary": summary_figures(run),
            "columns": _columns(run),
            "parameters": parameter_labels(run),
            "landscape": len(run.data.columns) > 6,
            "printed": timezone.localtime(),
        },
        request=request,
    )


def parameter_labels(run: ReportRun) -> list[tuple[str, str]]:
    """The report's own parameters as the reader chose them: (label, shown value)."""
    from django import forms
    from django.utils.translation import gettext

    fields = run.report.form(organisation=run.organisation).fields
    shown = []
    for name, value in run.params.items():
        field = fields.get(name)
        if field is None or value in (None, ""):
            continue
        if isinstance(field, forms.BooleanField):
            text = gettext("Yes") if value else gettext("No")
        elif isinstance(field, forms.ModelChoiceField):
            text = str(value)
        elif isinstance(field, forms.ChoiceField):
            choices: Any = field.choices
            text = str(dict(choices).get(value, value))
        else:
            text = str(value)
        shown.append((str(field.label or name), text))
    return shown


def _columns(run: ReportRun) -> list[dict[str, Any]]:
    return [
        {"label": c.label, "numeric": c.kind in NUMERIC, "money": c.kind == MONEY}
        for c in run.data.columns
    ]


def table_rows(run: ReportRun) -> list[dict[str, Any]]:
    """Each row's cells with their link and previous-period value, ready for the template."""
    rows = [(row, False) for row in run.data.rows]
    if run.data.total:
        rows.append((run.data.total, True))
    # A row's ``level`` indents its label: the last of the text columns that lead the row.
    label_index = 0
    for index, column in enumerate(run.data.columns):
        if column.kind != TEXT:
            break
        label_index = index
    table = []
    for row, is_total in rows:
        links = run.row_links(row)
        previous = run.previous_row(row)
        cells = []
        level = row.get("level") or 0
        for index, column in enumerate(run.data.columns):
            value = row.get(column.key)
            cell: dict[str, Any] = {
                "value": value,
                "kind": column.kind,
                "url": links.get(column.key),
                "numeric": column.kind in NUMERIC,
                "indent": level if index == label_index else 0,
            }
            if column.compare and run.previous is not None:
                before = previous.get(column.key) if previous else None
                cell.update(
                    compared=True, previous=before, change=change(value, before, column.kind)
                )
            cells.append(cell)
        # A subtotal, or an account that groups others, is shown in bold.
        table.append(
            {
                "cells": cells,
                "total": is_total,
                "strong": bool(row.get("subtotal") or row.get("group")),
            }
        )
    return table


def summary_figures(run: ReportRun) -> list[dict[str, Any]]:
    return [
        {
            "figure": figure,
            "previous": run.previous_figure(figure.key),
            "change": change(figure.value, run.previous_figure(figure.key), figure.kind),
        }
        for figure in run.data.summary
    ]


def report_urls(module: str) -> list[URLPattern]:
    """The module's report list and one page per report it registered, for its urls.py."""
    from ..reports import all_reports

    patterns = [path("reports/", report_list, {"module": module}, name="reports")]
    for report in all_reports():
        if report.module != module:
            continue
        view = ReportView.as_view(report_key=report.key, model=report.subject)
        patterns.append(path(report.page_route, view, name=f"report_{report.name}"))
    return patterns


def report_url(report: Report, organisation: Any, subject: Any = None, **query: Any) -> str:
    """The address of a report's page, with an optional query (``preset="last_year"``)."""
    kwargs = {"pk": subject.pk} if subject is not None else {}
    url = _reverse(report.url_name, organisation, **kwargs)
    return f"{url}?{urlencode(query)}" if query else url
