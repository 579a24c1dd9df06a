"""Import pages: upload, map the columns, preview, import. The work is in ``importing.py``.

The uploaded file waits under MEDIA_ROOT (``importing.StoredUpload``), found
again by the ``t`` parameter: a random token that only opens the same
user's upload in the same organisation. Files over
``importing.BACKGROUND_ROWS`` rows are checked and imported by background
jobs; the preview page polls them.
"""

from __future__ import annotations

import string
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.text import capfirst
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from gremio.core.jobs import start_job
from gremio.core.models import Job
from gremio.core.permissions import can

from . import importing
from .importing import ImportFileError, ImportResult, Kind, OnDuplicate, StoredUpload

IMPORT_PERM = "members.add_company"
SHOWN_ROWS = 1000  # bad rows listed on the page; the download has them all


class ImportUploadForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("The file holds"),
        choices=Kind.choices,
        initial=Kind.COMPANIES,
        widget=forms.RadioSelect,
    )
    file = forms.FileField(
        label=gettext_lazy("File"),
        help_text=gettext_lazy(
            "CSV or Excel workbook (.xlsx), up to 20 MB and 100,000 rows, with the column "
            "headers in the first row."
        ),
    )
    on_duplicate = forms.ChoiceField(
        label=gettext_lazy("Rows that match a record already on file"),
        choices=OnDuplicate.choices,
        initial=OnDuplicate.SKIP,
        widget=forms.RadioSelect,
        help_text=gettext_lazy(
            "Companies match by RFC, contacts by e-mail. You can change this on the preview."
        ),
    )

    sheet: importing.Sheet

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        upload, kind = data.get("file"), data.get("kind")
        if upload is None or kind is None:
            return data
        if upload.size > importing.MAX_BYTES:
            self.add_error("file", _("The file is larger than 20 MB; split it into smaller files."))
            return data
        content = upload.read()
        try:
            self.sheet = importing.read_sheet(
                content,
                upload.name or "",
                kind,
                head_only=len(content) > importing.XLSX_READ_IN_REQUEST,
            )
        except ImportFileError as exc:
            self.add_error("file", exc.message)
        return data


def column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = string.ascii_uppercase[remainder] + letters
    return letters


class ColumnMappingForm(forms.Form):
    """One choice per column of the file: the field it fills, or none."""

    def __init__(self, *args: Any, headers: list[str], kind: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.headers = headers
        self.kind = kind
        choices = [("", _("— ignore this column —"))] + [
            (column.key, capfirst(column.label)) for column in importing.columns_for(kind)
        ]
        for index, header in enumerate(headers):
            self.fields[f"col_{index}"] = forms.ChoiceField(
                label=header
                or _("Column {letter} (no header)").format(letter=column_letter(index)),
                choices=choices,
                required=False,
            )

    def mapping(self) -> list[str]:
        return [self.cleaned_data.get(f"col_{i}", "") for i in range(len(self.headers))]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        mapping = self.mapping()
        for key, count in _counts(mapping).items():
            if key and count > 1:
                raise forms.ValidationError(
                    _("{count} columns fill “{field}”; choose one and ignore the others.").format(
                        count=count, field=importing.column_label(self.kind, key)
                    )
                )
        missing = importing.missing_fields(self.kind, mapping)
        if missing:
            raise forms.ValidationError(missing)
        return data


def _counts(values: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        counts[value] = counts.get(value, 0) + 1
    return counts


# Helpers ----------------------------------------------------------------------


def _check_permission(request: HttpRequest) -> Any:
    organisation = request.organisation  # type: ignore[attr-defined]
    if not can(request.user, IMPORT_PERM, organisation):
        raise PermissionDenied
    return organisation


def _may_import(request: HttpRequest, kind: str, on_duplicate: str) -> bool:
    """Adding what the file holds (a company file adds contacts too); updating, if chosen."""
    organisation = request.organisation  # type: ignore[attr-defined]
    models = ("company", "contact") if kind == Kind.COMPANIES else ("contact",)
    actions = ("add", "change") if on_duplicate == OnDuplicate.UPDATE else ("add",)
    return all(
        can(request.user, f"members.{action}_{model}", organisation)
        for model in models
        for action in actions
    )


def _url(request: HttpRequest, name: str, upload: StoredUpload | None = None) -> str:
    url = reverse(f"members:{name}", kwargs={"org": request.organisation.slug})  # type: ignore[attr-defined]
    return f"{url}?t={upload.token}" if upload else url


def _load(request: HttpRequest) -> StoredUpload | None:
    token = request.POST.get("t") if request.method == "POST" else request.GET.get("t")
    return StoredUpload.load(
        organisation_id=request.organisation.pk,  # type: ignore[attr-defined]
        user_id=request.user.pk,
        token=token,
    )


def _upload_page(
    request: HttpRequest, form: ImportUploadForm | None = None, *, lost: bool = False
) -> HttpResponse:
    context = {
        "organisation": request.organisation,  # type: ignore[attr-defined]
        "form": form or ImportUploadForm(),
        "lost": lost,
        "columns": [
            (Kind(kind).label, importing.columns_for(kind))
            for kind in (Kind.COMPANIES, Kind.CONTACTS)
        ],
        "limits": {
            "rows": f"{importing.MAX_ROWS:,}",
            "background": f"{importing.BACKGROUND_ROWS:,}",
        },
    }
    return render(request, "members/import/upload.html", context)


def _job(request: HttpRequest, job_id: Any) -> Job | None:
    if not job_id:
        return None
    return Job.objects.filter(
        organisation=request.organisation,  # type: ignore[attr-defined]
        user_id=cast(int, request.user.pk),
        pk=job_id,
    ).first()


def _preview_key(upload: StoredUpload) -> list[Any]:
    # A small file's preview is kept for these options and this language (its messages).
    return [upload.meta["on_duplicate"], upload.meta["mapping"], get_language()]


def _options_changed(request: HttpRequest, upload: StoredUpload) -> None:
    """Forget the preview; a big file's rows are checked again by a job."""
    upload.meta.pop("preview", None)
    upload.meta.pop("preview_job", None)
    if upload.in_background:
        job = start_job(
            organisation=request.organisation,  # type: ignore[attr-defined]
            user=request.user,
            name=_("Check the import of {file}").format(file=upload.meta["filename"]),
            function=importing.preview_job,
            user_id=request.user.pk,
            token=upload.token,
        )
        upload.meta["preview_job"] = job.pk
    upload.save()


# Pages ------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def import_upload(request: HttpRequest, org: str) -> HttpResponse:
    """Step 1: the file, what it holds and what to do with rows already on file."""
    organisation = _check_permission(request)
    if request.method != "POST":
        return _upload_page(request)
    form = ImportUploadForm(request.POST, request.FILES)
    if form.is_valid():
        kind, on_duplicate = form.cleaned_data["kind"], form.cleaned_data["on_duplicate"]
        if not _may_import(request, kind, on_duplicate):
            raise PermissionDenied
        upload = StoredUpload.create(
            organisation_id=organisation.pk,
            user_id=cast(int, request.user.pk),
            sheet=form.sheet,
            filename=form.cleaned_data["file"].name or "",
            kind=kind,
            on_duplicate=on_duplicate,
            language=get_language() or "",
        )
        if not upload.meta["mapped"]:
            return HttpResponseRedirect(_url(request, "import_mapping", upload))
        _options_changed(request, upload)
        return HttpResponseRedirect(_url(request, "import_preview", upload))
    return _upload_page(request, form)


@require_http_methods(["GET", "POST"])
def import_mapping(request: HttpRequest, org: str) -> HttpResponse:
    """Step 2, when a header is not recognised (or two claim one field): map the columns."""
    _check_permission(request)
    upload = _load(request)
    if upload is None or not upload.has_data:
        return _upload_page(request, lost=True)
    if upload.meta.get("commit_job") or upload.meta.get("outcome"):
        return HttpResponseRedirect(_url(request, "import_preview", upload))
    headers, kind = list(upload.meta["headers"]), upload.meta["kind"]
    initial = {f"col_{i}": key for i, key in enumerate(upload.meta["mapping"])}
    form = ColumnMappingForm(
        request.POST if request.method == "POST" else None,
        headers=headers,
        kind=kind,
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        upload.meta["mapping"] = form.mapping()
        upload.meta["mapped"] = True
        _options_changed(request, upload)
        return HttpResponseRedirect(_url(request, "import_preview", upload))
    guess = importing.guess_mapping(headers, kind)
    samples: list[list[str]] = [[] for _header in headers]
    try:
        for cells in upload.head(3):
            for index in range(len(headers)):
                samples[index].append(cells[index] if index < len(cells) else "")
    except (ImportFileError, ValueError, OSError):
        pass  # the samples only help; the job reports a damaged file
    rows = [
        {
            "field": form[f"col_{index}"],
            "letter": column_letter(index),
            "samples": [s for s in samples[index] if s],
            "unrecognised": index in guess.unrecognised,
            "ambiguous": any(index in claims for claims in guess.ambiguous.values()),
        }
        for index in range(len(headers))
    ]
    context = {
        "organisation": request.organisation,  # type: ignore[attr-defined]
        "upload": upload,
        "form": form,
        "rows": rows,
        "kind_label": Kind(kind).label,
    }
    return render(request, "members/import/mapping.html", context)


@require_http_methods(["GET", "POST"])
def import_preview(request: HttpRequest, org: str) -> HttpResponse:
    """Step 3: every bad row, the counts, and the button that imports; then the outcome."""
    organisation = _check_permission(request)
    upload = _load(request)
    if upload is None:
        return _upload_page(request, lost=True)
    if not upload.meta["mapped"]:
        return HttpResponseRedirect(_url(request, "import_mapping", upload))
    if request.method == "POST":
        return _preview_post(request, upload)

    context: dict[str, Any] = {
        "organisation": organisation,
        "upload": upload,
        "sheet_description": importing.Sheet(
            content=b"",
            format=upload.meta["format"],
            encoding=upload.meta["encoding"],
            delimiter=upload.meta["delimiter"],
        ).describe(),
        "columns": [
            (header or column_letter(i), importing.column_label(upload.meta["kind"], key))
            for i, (header, key) in enumerate(
                zip(upload.meta["headers"], upload.meta["mapping"], strict=False)
            )
        ],
        "kind_label": Kind(upload.meta["kind"]).label,
        "row_count": upload.row_count,
        "on_duplicate_choices": OnDuplicate.choices,
        "shown_rows": SHOWN_ROWS,
        "companies": upload.meta["kind"] == Kind.COMPANIES,
    }
    result, job = _current_result(request, upload)
    context.update(result=result, job=job, polling=job is not None and not job.is_finished)
    if result is not None:
        context["summary"] = importing.summary(result)
        context["bad_rows_shown"] = result.bad_rows[:SHOWN_ROWS]
        context["matched_rows_shown"] = result.matched_rows[:SHOWN_ROWS]
        context["warning_rows_shown"] = result.warning_rows[:SHOWN_ROWS]
        context["sample_headers"] = list(result.sample[0]) if result.sample else []
        context["may_commit"] = (
            not result.committed
            and not result.error
            and not result.bad
            and (result.new + result.update) > 0
            and upload.has_data
            and _may_import(request, upload.meta["kind"], upload.meta["on_duplicate"])
        )
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "members/import/includes/preview_body.html", context)
    return render(request, "members/import/preview.html", context)


def _current_result(
    request: HttpRequest, upload: StoredUpload
) -> tuple[ImportResult | None, Job | None]:
    """The outcome, or else the preview: computed now for a small file, by a job for a big one."""
    meta = upload.meta
    if meta.get("outcome"):
        return ImportResult.from_dict(meta["outcome"]), None
    if meta.get("commit_job"):
        job = _job(request, meta["commit_job"])
        if job is not None and job.status == Job.Status.DONE and job.result:
            return ImportResult.from_dict(job.result), job
        return None, job
    if upload.in_background:
        job = _job(request, meta.get("preview_job"))
        if job is not None and job.status == Job.Status.DONE and job.result:
            return ImportResult.from_dict(job.result), job
        return None, job
    key = _preview_key(upload)
    cached = meta.get("preview") or {}
    if cached.get("key") == key:
        return ImportResult.from_dict(cached["result"]), None
    organisation = request.organisation  # type: ignore[attr-defined]
    result = importing.preview(upload.sheet(), organisation=organisation, options=upload.options)
    meta["preview"] = {"key": key, "result": result.as_dict()}
    upload.save()
    return result, None


def _preview_post(request: HttpRequest, upload: StoredUpload) -> HttpResponse:
    action = request.POST.get("action")
    here = _url(request, "import_preview", upload)
    if upload.meta.get("outcome") or upload.meta.get("commit_job") or not upload.has_data:
        messages.info(request, _("This file has already been imported."))
        return HttpResponseRedirect(here)
    if action == "recheck":
        choice = request.POST.get("on_duplicate")
        if choice in OnDuplicate.values:
            upload.meta["on_duplicate"] = choice
        _options_changed(request, upload)
        return HttpResponseRedirect(here)
    if action != "commit":
        return HttpResponseRedirect(here)
    kind, on_duplicate = upload.meta["kind"], upload.meta["on_duplicate"]
    if not _may_import(request, kind, on_duplicate):
        raise PermissionDenied
    if upload.in_background:
        job = start_job(
            organisation=request.organisation,  # type: ignore[attr-defined]
            user=request.user,
            name=_("Import of {file}").format(file=upload.meta["filename"]),
            function=importing.commit_job,
            user_id=request.user.pk,
            token=upload.token,
        )
        upload.meta["commit_job"] = job.pk
        upload.save()
        return HttpResponseRedirect(here)
    try:
        result = importing.commit(
            upload.sheet(),
            organisation=request.organisation,  # type: ignore[attr-defined]
            options=upload.options,
            precheck=False,
        )
    except (DatabaseError, ImportFileError) as exc:
        messages.error(
            request,
            _("The import failed and nothing was written: {error}").format(
                error=getattr(exc, "message", exc)
            ),
        )
        return HttpResponseRedirect(here)
    if not result.committed:
        # Records changed since the preview; show the rows as they stand now.
        upload.meta["preview"] = {"key": _preview_key(upload), "result": result.as_dict()}
        upload.save()
        messages.error(request, result.error)
        return HttpResponseRedirect(here)
    upload.discard_data()
    upload.meta["outcome"] = result.as_dict()  # the page shows it
    upload.save()
    return HttpResponseRedirect(here)


def import_errors(request: HttpRequest, org: str) -> HttpResponse:
    """The bad rows as a CSV, as they were in the file, with what is wrong in each."""
    _check_permission(request)
    upload = _load(request)
    if upload is None or not upload.has_data:
        return _upload_page(request, lost=True)
    result, _job_row = _current_result(request, upload)
    if result is None:
        return HttpResponseRedirect(_url(request, "import_preview", upload))
    content = importing.bad_rows_csv(upload.sheet(), result)
    response = HttpResponse("\ufeff" + content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="rows-with-errors.csv"'
    return response
