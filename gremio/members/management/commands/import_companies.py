from gremio.members.importing import Kind

from ._import import ImportCommand


class Command(ImportCommand):
    help = (
        "Import companies, with their main contact, from a CSV or XLSX file. Prints the "
        "preview and every row with errors; writes only with --commit, and then all or nothing."
    )
    kind = Kind.COMPANIES
