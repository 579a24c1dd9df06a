from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from gremio.core import services
from gremio.core.changelog import change_context
from gremio.core.forms import OrganisationCreateForm


class Command(BaseCommand):
    help = "Create an organisation (with the reference pillars) and invite its first administrator."

    def add_arguments(self, parser):
        parser.add_argument("slug", help="Short name used in addresses, e.g. canieti-occidente.")
        parser.add_argument("name", help="Display name.")
        parser.add_argument(
            "--admin-email", required=True, help="E-mail of the first administrator."
        )
        parser.add_argument("--legal-name", default="")
        parser.add_argument("--rfc", default="")
        parser.add_argument("--currency", default="MXN")
        parser.add_argument("--time-zone", default="America/Mexico_City")
        parser.add_argument("--language", default="es-mx", choices=["es-mx", "en"])
        parser.add_argument("--fiscal-year-start-month", type=int, default=1)
        parser.add_argument(
            "--base-url", default="http://127.0.0.1:8000", help="For the invitation link."
        )

    def handle(self, *args, **o):
        form = OrganisationCreateForm(
            {
                "slug": o["slug"],
                "name": o["name"],
                "admin_email": o["admin_email"],
                "legal_name": o["legal_name"],
                "rfc": o["rfc"],
                "currency": o["currency"],
                "time_zone": o["time_zone"],
                "language": o["language"],
                "fiscal_year_start_month": o["fiscal_year_start_month"],
            }
        )
        if not form.is_valid():
            lines = [
                f"{field}: {' '.join(str(e) for e in errors)}"
                for field, errors in form.errors.items()
            ]
            raise CommandError("Nothing was created:\n" + "\n".join(lines))
        data = {k: v for k, v in form.cleaned_data.items() if k != "admin_email"}
        try:
            with transaction.atomic(), change_context(None, label="create_organisation"):
                organisation = services.organisation_create(**data)
                invitation = services.invitation_send(
                    organisation=organisation,
                    email=form.cleaned_data["admin_email"],
                    role="admin",
                    invited_by=None,
                    base_url=o["base_url"],
                )
        except ValidationError as exc:
            raise CommandError(f"Nothing was created: {exc}") from exc
        self.stdout.write(
            self.style.SUCCESS(f"Created {organisation.name} at /{organisation.slug}/")
        )
        self.stdout.write(
            f"Invitation for {invitation.email}: {o['base_url']}/invitations/{invitation.token}/"
        )
