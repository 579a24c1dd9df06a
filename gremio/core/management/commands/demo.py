from django.core.management.base import BaseCommand, CommandError

from gremio.core import demo


class Command(BaseCommand):
    help = "Create or refresh a demo organisation with one user per role and realistic data."

    def add_arguments(self, parser):
        parser.add_argument(
            "--org", default="demo", help="Short name of the organisation (default: demo)."
        )
        parser.add_argument("--scale", choices=demo.SCALES, default="small")
        parser.add_argument(
            "--password", default="gremio-demo", help="Password of every demo user."
        )
        parser.add_argument("--seed", type=int, default=2026, help="Same seed, same data.")
        parser.add_argument(
            "--if-new", action="store_true", help="Do nothing if the organisation already exists."
        )

    def handle(self, *args, **options):
        from django.core.exceptions import ValidationError
        from django.core.validators import validate_slug

        try:
            validate_slug(options["org"])
        except ValidationError as exc:
            raise CommandError("--org must be a short name: letters, digits, hyphens.") from exc
        from gremio.core.models import Organisation

        if options["if_new"] and Organisation.objects.filter(slug=options["org"]).exists():
            self.stdout.write(
                f"Demo organisation /{options['org']}/ already exists; left as it is."
            )
            return
        organisation = demo.build(
            slug=options["org"],
            scale=options["scale"],
            password=options["password"],
            seed=options["seed"],
            log=lambda line: self.stdout.write(line),
        )
        demo.ensure_operator(password=options["password"])
        self.stdout.write(self.style.SUCCESS(f"Demo organisation ready: /{organisation.slug}/"))
        self.stdout.write(
            f"Sign in as admin@{organisation.slug}.example (or <role>@{organisation.slug}.example) "
            f"with password {options['password']!r}; platform operator: operator@gremio.example."
        )
