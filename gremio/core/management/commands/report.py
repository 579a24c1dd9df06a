"""Run any registered report from the command line, as CSV or JSON on standard output."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation


class Command(BaseCommand):
    help = (
        "Run a report: manage.py report members.services_delivered --org demo "
        "--from 2026-01-01 --to 2026-12-31 [--param by=sector] [--format csv|json]. "
        "--list shows the reports and their parameters."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("key", nargs="?", help="The report, e.g. members.services_delivered.")
        parser.add_argument("--list", action="store_true", help="List the reports and stop.")
        parser.add_argument("--org", help="The organisation's short name (slug).")
        parser.add_argument("--from", dest="from", help="First day, YYYY-MM-DD.")
        parser.add_argument("--to", dest="to", help="Last day, YYYY-MM-DD.")
        parser.add_argument("--preset", help="this_year, last_year, last_12_months, ...")
        parser.add_argument(
            "--param",
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help="A parameter of the report (repeatable), e.g. by=sector.",
        )
        parser.add_argument("--id", dest="subject", help="The record a report is about.")
        parser.add_argument("--format", choices=("csv", "json"), default="csv")
        parser.add_argument(
            "--compare", action="store_true", help="Add the previous period of the same length."
        )
        parser.add_argument(
            "--language", help="Language of the column titles (default: the organisation's)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from gremio.core.reports import all_reports, get_report

        if options["list"]:
            for listed in all_reports():
                names = ", ".join(p["name"] for p in listed.parameters())
                subject = f" --id <{listed.subject._meta.model_name}>" if listed.subject else ""
                self.stdout.write(f"{listed.key}{subject}  ({names})")
            return
        if not options["key"]:
            raise CommandError("Name a report (see --list).")
        report = get_report(options["key"])
        if report is None:
            raise CommandError(f"No report {options['key']!r}; see --list.")
        organisation = self._organisation(options["org"])
        with translation.override(options["language"] or organisation.language):
            self.stdout.write(self._run(report, organisation, options), ending="")

    def _organisation(self, slug: str | None) -> Any:
        from gremio.core.models import Organisation

        if not slug:
            raise CommandError("Give the organisation with --org.")
        organisation = Organisation.objects.filter(slug=slug).first()
        if organisation is None:
            raise CommandError(f"No organisation {slug!r}.")
        return organisation

    def _run(self, report: Any, organisation: Any, options: dict[str, Any]) -> str:
        from gremio.core.reports import form_errors, run_as_dataset, run_as_dict, run_report

        data: dict[str, Any] = {
            name: options[name] for name in ("from", "to", "preset") if options[name]
        }
        for item in options["param"]:
            name, sep, value = item.partition("=")
            if not sep:
                raise CommandError(f"--param takes NAME=VALUE, not {item!r}.")
            data[name.strip()] = value.strip()
        form = report.form(data, organisation=organisation)
        if not form.is_valid():
            problems = "; ".join(
                f"{name}: {' '.join(errors)}" for name, errors in form_errors(form).items()
            )
            raise CommandError(problems)
        params = form.params()
        if report.subject is not None:
            subject = (
                report.subject._default_manager.filter(
                    organisation=organisation, pk=options["subject"]
                ).first()
                if (options["subject"] or "").isdigit()
                else None
            )
            if subject is None:
                raise CommandError(
                    f"Give the id of a {report.subject._meta.model_name} of {organisation.slug} "
                    "with --id."
                )
            params[report.subject._meta.model_name] = subject
        run = run_report(
            report,
            organisation=organisation,
            period=form.period,
            params=params,
            compare=options["compare"],
        )
        if options["format"] == "json":
            return json.dumps(run_as_dict(run), ensure_ascii=False, indent=2) + "\n"
        return str(run_as_dataset(run).export("csv"))
