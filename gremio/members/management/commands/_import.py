"""What ``import_companies`` and ``import_contacts`` share: the same steps as the import page.

Messages are in the organisation's language unless ``--language`` says otherwise.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation
from django.utils.translation import gettext as _

from gremio.core.changelog import change_context
from gremio.core.models import Organisation
from gremio.members import importing
from gremio.members.importing import ImportFileError, OnDuplicate, Options


class ImportCommand(BaseCommand):
    kind: str = importing.Kind.COMPANIES

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--org", required=True, help="The organisation's short name (slug).")
        parser.add_argument("file", help="A CSV or XLSX file with the column headers on top.")
        parser.add_argument(
            "--commit",
            action="store_true",
            help="Write the rows, all or nothing. Without it nothing is written.",
        )
        parser.add_argument(
            "--on-duplicate",
            choices=OnDuplicate.values,
            default=OnDuplicate.SKIP,
            help="Rows matching a record on file (companies by RFC, contacts by e-mail): "
            "skip them (default), update the record's empty fields, or create (a match is "
            "then an error).",
        )
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="HEADER=FIELD",
            help="Map a column to a field, or to nothing (HEADER=) to ignore it; may be "
            "repeated. Columns not recognised are otherwise ignored.",
        )
        parser.add_argument(
            "--language",
            choices=["es-mx", "en"],
            help="Language of the messages; the organisation's by default.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        organisation = Organisation.objects.filter(slug=options["org"]).first()
        if organisation is None:
            raise CommandError(
                _("No organisation has the short name “{slug}”.").format(slug=options["org"])
            )
        with translation.override(options["language"] or organisation.language):
            self.run(organisation, options)

    def run(self, organisation: Organisation, options: dict[str, Any]) -> None:
        path = Path(options["file"])
        try:
            if path.stat().st_size > importing.MAX_BYTES:
                raise ImportFileError(
                    _("The file is larger than {size} MB; split it into smaller files.").format(
                        size=importing.MAX_BYTES // (1024 * 1024)
                    )
                )
            sheet = importing.read_sheet(path.read_bytes(), path.name, self.kind)
        except OSError as exc:
            raise CommandError(
                _("{file} cannot be read: {error}").format(file=path, error=exc.strerror)
            ) from exc
        except ImportFileError as exc:
            raise CommandError(_("Nothing was written: {error}").format(error=exc.message)) from exc
        mapping = self.mapping(sheet, options["map"])
        self.stdout.write(
            _("{file}: {format}, {rows} rows, headers in row {row}.").format(
                file=path.name, format=sheet.describe(), rows=sheet.row_count, row=sheet.header_row
            )
        )
        for index, (header, key) in enumerate(zip(sheet.headers, mapping, strict=False)):
            target = importing.column_label(self.kind, key) if key else _("(ignored)")
            self.stdout.write(f"  {header or index + 1} → {target}")

        settings = Options(kind=self.kind, on_duplicate=options["on_duplicate"], mapping=mapping)
        result = importing.preview(sheet, organisation=organisation, options=settings)
        self.report(result, options["verbosity"])
        if not options["commit"]:
            self.stdout.write(_("Nothing was written (a preview). Add --commit to import."))
            return
        if result.bad:
            raise CommandError(result.error or self.refused(result), returncode=1)
        with change_context(None, label=f"import_{self.kind}"):
            result = importing.commit(
                sheet, organisation=organisation, options=settings, precheck=False
            )
        if not result.committed:
            self.report(result, options["verbosity"])
            raise CommandError(result.error, returncode=1)
        self.stdout.write(self.style.SUCCESS(importing.summary(result)))

    @staticmethod
    def refused(result: importing.ImportResult) -> str:
        return _("Nothing was imported: {count} rows have errors.").format(count=result.bad)

    def mapping(self, sheet: importing.Sheet, overrides: list[str]) -> list[str]:
        """The recognised headers, with the --map overrides; refuses what stays ambiguous."""
        mapping = list(importing.guess_mapping(sheet.headers, self.kind).mapping)
        keys = {c.key for c in importing.columns_for(self.kind)}
        by_header = {importing.normalise(h): i for i, h in enumerate(sheet.headers)}
        for override in overrides:
            header, _sep, key = override.partition("=")
            index = by_header.get(importing.normalise(header))
            if index is None:
                raise CommandError(
                    _("--map {value}: the file has no column “{header}”.").format(
                        value=override, header=header
                    )
                )
            if key and key not in keys:
                raise CommandError(
                    _("--map {value}: unknown field “{key}”; use one of: {keys}.").format(
                        value=override, key=key, keys=", ".join(sorted(keys))
                    )
                )
            mapping[index] = key
        claimed: dict[str, list[str]] = {}
        for header, key in zip(sheet.headers, mapping, strict=False):
            if key:
                claimed.setdefault(key, []).append(header)
        for key, headers in claimed.items():
            if len(headers) > 1:
                raise CommandError(
                    _(
                        "The columns {headers} all fill “{field}”; keep one, e.g. with "
                        "--map '{header}='."
                    ).format(
                        headers=", ".join(headers),
                        field=importing.column_label(self.kind, key),
                        header=headers[1],
                    )
                )
        missing = importing.missing_fields(self.kind, mapping)
        if missing:
            raise CommandError(" ".join(missing))
        return mapping

    def report(self, result: importing.ImportResult, verbosity: int) -> None:
        """The summary and every bad row; warnings too with -v 2."""
        self.stdout.write(importing.summary(result))
        for row in result.bad_rows:
            for error in row["errors"]:
                self.stdout.write(
                    _("Row {row} ({record}): {error}").format(
                        row=row["row"], record=row["label"] or "—", error=error
                    )
                )
        if verbosity > 1:
            for row in result.warning_rows:
                for warning in row["warnings"]:
                    self.stdout.write(
                        _("Row {row} ({record}), warning: {warning}").format(
                            row=row["row"], record=row["label"] or "—", warning=warning
                        )
                    )
