"""Import companies (with their main contact) and contacts from CSV or XLSX files.

Plain functions and classes, no request: the import pages
(``views_import.py``), the background jobs below and the ``import_companies``
/ ``import_contacts`` commands all go through the same steps:

1. ``read_sheet`` refuses what is not a CSV or XLSX file (by content), is
   empty, too big or too long, and finds the header row;
2. ``guess_mapping`` recognises Spanish and English column headers;
3. ``preview`` checks every row with the rules of the members forms and
   reports every bad row with its number and reason, and what would be
   created, updated or skipped;
4. ``commit`` writes everything in one transaction, or nothing.

Rows are validated through ``CompanyForm`` and ``ContactForm`` (as
``CompanyRowForm`` / ``ContactRowForm``), so an import accepts exactly what
the pages accept. What the forms look up in the database one row at a time
(duplicates, sector and chamber ids) is instead looked up in an index of the
organisation built once per pass, so a pass costs a handful of queries
whatever the size of the file. Writes use ``.save()``, so the change log
records every created and updated row through its signals.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import functools
import io
import itertools
import json
import re
import secrets
import shutil
import time
import unicodedata
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS
from django.db import models, transaction
from django.utils import translation
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gremio.core.forms import OrganisationModelForm
from gremio.core.models import Organisation

from .forms import CompanyForm, ContactForm
from .geo import State
from .models import Chamber, Company, Contact, Sector, Tag

# Limits ---------------------------------------------------------------------

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 100_000
MAX_COLUMNS = 200
#: Bigger files are checked and written by a background job.
BACKGROUND_ROWS = 2_000
#: Bigger workbooks are read whole by the background job, not during the upload request
#: (openpyxl reads some 50,000 cells a second; a web request must answer in seconds).
XLSX_READ_IN_REQUEST = 2 * 1024 * 1024
#: An XLSX is a zip of XML; refuse one that unpacks to far more than a real sheet.
MAX_UNPACKED = 500 * 1024 * 1024
#: How many bad, matched or warned rows a result lists (counts are always complete).
MAX_LISTED = 100_000
#: Uploads waiting for a preview or a commit are kept this long.
UPLOAD_TTL = dt.timedelta(hours=24)


class Kind(models.TextChoices):
    COMPANIES = "companies", gettext_lazy("Companies, with their main contact")
    CONTACTS = "contacts", gettext_lazy("Contacts")


class OnDuplicate(models.TextChoices):
    SKIP = "skip", gettext_lazy("Skip them: leave the existing record as it is")
    UPDATE = "update", gettext_lazy("Update the existing record: fill in its empty fields")
    CREATE = "create", gettext_lazy("Create new: a row that matches an existing record is an error")


class ImportFileError(Exception):
    """The file cannot be imported at all; the message is for the person who sent it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# Columns --------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """A field a spreadsheet column can fill, and the headers that name it."""

    key: str
    label: Any  # lazy translation
    headers: str  # "|"-separated

    @property
    def aliases(self) -> list[str]:
        return [h.strip() for h in self.headers.split("|") if h.strip()]


def normalise(text: Any) -> str:
    """Lower case, no accents, punctuation as spaces: how headers and names are compared."""
    text = unicodedata.normalize("NFKD", str(text or ""))
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text).split())


# Each field with the headers that name it, "|"-separated; compared without case,
# accents or punctuation. Spanish first, then English.
COMPANY_COLUMNS: tuple[Column, ...] = (
    Column(
        "legal_name",
        gettext_lazy("legal name"),
        (
            "Razón social | Nombre legal | Denominación | Denominación social | "
            "Denominación o razón social | Nombre o razón social | Empresa | "
            "Nombre de la empresa | Legal name | Company | Company name | Business name | "
            "Registered name"
        ),
    ),
    Column(
        "trade_name",
        gettext_lazy("trade name"),
        "Nombre comercial | Marca | Trade name | Commercial name | Brand",
    ),
    Column(
        "rfc",
        gettext_lazy("RFC"),
        (
            "RFC | RFC de la empresa | Registro federal de contribuyentes | Tax ID | "
            "Taxpayer ID | Company RFC"
        ),
    ),
    Column(
        "entity_type",
        gettext_lazy("entity type"),
        "Tipo de persona | Persona física o moral | Entity type | Person type",
    ),
    Column(
        "sector",
        gettext_lazy("SCIAN"),
        (
            "SCIAN | Código SCIAN | Clave SCIAN | Sector | Sector SCIAN | Subsector | "
            "Subsector SCIAN | Industry code | NAICS"
        ),
    ),
    Column(
        "size_band",
        gettext_lazy("size"),
        ("Tamaño | Tamaño de empresa | Tamaño de la empresa | Estrato | Size | Company size"),
    ),
    Column(
        "employees",
        gettext_lazy("employees"),
        (
            "Empleados | Número de empleados | No. de empleados | Núm. de empleados | "
            "Trabajadores | Número de trabajadores | Personal ocupado | Employees | "
            "Number of employees | Headcount"
        ),
    ),
    Column("state", gettext_lazy("state"), "Estado | Entidad | Entidad federativa | State"),
    Column(
        "municipality",
        gettext_lazy("municipality"),
        "Municipio | Alcaldía | Municipio o alcaldía | Ciudad | Municipality | City",
    ),
    Column(
        "address",
        gettext_lazy("address"),
        "Dirección | Domicilio | Domicilio fiscal | Calle | Address | Street address",
    ),
    Column(
        "postal_code",
        gettext_lazy("postal code"),
        "CP | C.P. | Código postal | Postal code | Zip | Zip code | Postcode",
    ),
    Column(
        "website", gettext_lazy("website"), "Sitio web | Página web | Página | Web | Website | URL"
    ),
    Column(
        "phone",
        gettext_lazy("phone"),
        (
            "Teléfono | Tel | Teléfono de la empresa | Conmutador | Phone | Telephone | "
            "Company phone | Phone number"
        ),
    ),
    Column("chamber", gettext_lazy("chamber"), "Cámara | Cámara afiliada | Chamber"),
    Column("is_member", gettext_lazy("member"), "Afiliado | Es afiliado | Socio | Member"),
    Column("is_prospect", gettext_lazy("prospect"), "Prospecto | Prospect"),
    Column("is_supplier", gettext_lazy("supplier"), "Proveedor | Supplier"),
    Column(
        "is_public_body",
        gettext_lazy("public body"),
        "Dependencia | Organismo público | Public body",
    ),
    Column("tags", gettext_lazy("tags"), "Etiquetas | Etiqueta | Tags | Tag"),
    Column(
        "notes",
        gettext_lazy("notes"),
        "Notas | Nota | Observaciones | Comentarios | Notes | Comments | Remarks",
    ),
    Column(
        "contact_name",
        gettext_lazy("contact's full name"),
        (
            "Contacto | Nombre del contacto | Nombre de contacto | Contacto principal | "
            "Persona de contacto | Contact | Contact name | Main contact | Contact person"
        ),
    ),
    Column(
        "contact_first_name",
        gettext_lazy("contact's first name"),
        "Nombres del contacto | Contact first name",
    ),
    Column(
        "contact_last_name",
        gettext_lazy("contact's last name"),
        "Apellido del contacto | Apellido paterno del contacto | Contact last name",
    ),
    Column(
        "contact_second_last_name",
        gettext_lazy("contact's second last name"),
        "Apellido materno del contacto | Contact second last name",
    ),
    Column(
        "contact_position",
        gettext_lazy("contact's position"),
        (
            "Puesto | Cargo | Position | Job title | Title | Puesto del contacto | "
            "Cargo del contacto | Contact position"
        ),
    ),
    Column(
        "contact_email",
        gettext_lazy("contact's e-mail"),
        (
            "Correo | Correo electrónico | E-mail | Email | Mail | Email address | "
            "Correo del contacto | E-mail del contacto | Contact e-mail"
        ),
    ),
    Column(
        "contact_phone",
        gettext_lazy("contact's phone"),
        "Teléfono del contacto | Tel. del contacto | Contact phone",
    ),
    Column(
        "contact_mobile",
        gettext_lazy("contact's mobile"),
        (
            "Celular | Móvil | Cel | Mobile | Cell | Cell phone | Mobile phone | WhatsApp | "
            "Celular del contacto | Contact mobile"
        ),
    ),
)

CONTACT_COLUMNS: tuple[Column, ...] = (
    Column(
        "full_name",
        gettext_lazy("full name"),
        (
            "Nombre completo | Contacto | Nombre del contacto | Full name | Contact | "
            "Contact name | Name"
        ),
    ),
    Column(
        "first_name",
        gettext_lazy("first name"),
        "Nombre | Nombres | Nombre(s) | First name | Given name | Given names",
    ),
    Column(
        "last_name",
        gettext_lazy("last name"),
        ("Apellido | Apellido paterno | Primer apellido | Last name | Surname | Family name"),
    ),
    Column(
        "second_last_name",
        gettext_lazy("second last name"),
        (
            "Apellido materno | Segundo apellido | Second last name | Second surname | "
            "Maternal surname"
        ),
    ),
    Column("surnames", gettext_lazy("both last names"), "Apellidos | Surnames | Last names"),
    Column("position", gettext_lazy("position"), "Puesto | Cargo | Position | Job title | Title"),
    Column(
        "email",
        gettext_lazy("e-mail"),
        "Correo | Correo electrónico | E-mail | Email | Mail | Email address",
    ),
    Column(
        "phone",
        gettext_lazy("phone"),
        (
            "Teléfono | Tel | Teléfono de oficina | Phone | Telephone | Office phone | "
            "Work phone | Phone number"
        ),
    ),
    Column(
        "mobile",
        gettext_lazy("mobile"),
        "Celular | Móvil | Cel | Mobile | Cell | Cell phone | Mobile phone | WhatsApp",
    ),
    Column("language", gettext_lazy("language"), "Idioma | Language | Preferred language"),
    Column(
        "company",
        gettext_lazy("company"),
        (
            "Empresa | Compañía | Razón social | Organización | Nombre de la empresa | "
            "Company | Company name | Organisation | Organization | Employer"
        ),
    ),
    Column(
        "company_rfc",
        gettext_lazy("company's RFC"),
        "RFC | RFC de la empresa | RFC empresa | Company RFC | Tax ID",
    ),
    Column(
        "privacy_consent",
        gettext_lazy("accepted the privacy notice"),
        (
            "Aviso de privacidad | Acepta aviso de privacidad | "
            "Aceptó el aviso de privacidad | Consentimiento | Privacy consent | "
            "Privacy notice"
        ),
    ),
    Column(
        "privacy_consent_on",
        gettext_lazy("privacy notice accepted on"),
        (
            "Fecha del aviso de privacidad | Fecha de aceptación del aviso | "
            "Fecha de consentimiento | Consent date | Privacy consent date | "
            "Privacy notice accepted on"
        ),
    ),
    Column(
        "opt_out_email",
        gettext_lazy("no e-mail campaigns"),
        "No enviar correos | Sin correos | No e-mail | Opt out e-mail",
    ),
    Column(
        "notes",
        gettext_lazy("notes"),
        "Notas | Nota | Observaciones | Comentarios | Notes | Comments | Remarks",
    ),
)

CONTACT_PARTS = (
    "contact_name",
    "contact_first_name",
    "contact_last_name",
    "contact_second_last_name",
    "contact_position",
    "contact_email",
    "contact_phone",
    "contact_mobile",
)


def columns_for(kind: str) -> tuple[Column, ...]:
    return COMPANY_COLUMNS if kind == Kind.COMPANIES else CONTACT_COLUMNS


@functools.cache
def _aliases(kind: str) -> dict[str, str]:
    """Normalised header -> field key, from the aliases and the labels in both languages."""
    table: dict[str, str] = {}
    for column in columns_for(kind):
        for alias in (*column.aliases, column.key):
            table.setdefault(normalise(alias), column.key)
    for column in columns_for(kind):
        # The field's own label, in both languages, so that a Gremio export imports back.
        for language in ("en", "es-mx"):
            with translation.override(language):
                table.setdefault(normalise(str(column.label)), column.key)
    return table


def column_label(kind: str, key: str) -> str:
    for column in columns_for(kind):
        if column.key == key:
            return str(capfirst(column.label))
    return key


@dataclass
class MappingGuess:
    mapping: list[str]  # per column: a field key, or "" to ignore it
    unrecognised: list[int]
    ambiguous: dict[str, list[int]]
    missing: list[str]  # messages about fields the kind needs

    @property
    def complete(self) -> bool:
        return not (self.unrecognised or self.ambiguous or self.missing)


def guess_mapping(headers: Sequence[str], kind: str) -> MappingGuess:
    """Recognise each header; a column without a header is ignored."""
    aliases = _aliases(kind)
    mapping: list[str] = []
    unrecognised: list[int] = []
    for index, header in enumerate(headers):
        key = normalise(header)
        if not key:
            mapping.append("")
        elif key in aliases:
            mapping.append(aliases[key])
        else:
            mapping.append("")
            unrecognised.append(index)
    claims: dict[str, list[int]] = {}
    for index, key in enumerate(mapping):
        if key:
            claims.setdefault(key, []).append(index)
    ambiguous = {key: indexes for key, indexes in claims.items() if len(indexes) > 1}
    return MappingGuess(mapping, unrecognised, ambiguous, missing_fields(kind, mapping))


def missing_fields(kind: str, mapping: Sequence[str]) -> list[str]:
    mapped = set(mapping)
    if kind == Kind.COMPANIES and "legal_name" not in mapped:
        return [_("No column holds the legal name (“Razón social” / “Legal name”).")]
    if kind == Kind.CONTACTS and not mapped & {"full_name", "first_name"}:
        return [_("No column holds the contact's name (“Nombre” / “Name”).")]
    return []


# Reading files ----------------------------------------------------------------

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
XLSX_EXTENSIONS = (".xlsx", ".xlsm")
TEXT_EXTENSIONS = (".csv", ".txt", ".tsv")


@dataclass
class Sheet:
    """A readable table: its format, header row and how many rows it holds."""

    content: bytes  # CSV bytes; an XLSX is converted to CSV once it is read whole
    format: str  # "csv" or "xlsx": what was uploaded
    encoding: str = ""
    delimiter: str = ""
    header_row: int = 0  # 1-based row number of the headers
    headers: list[str] = field(default_factory=list)
    row_count: int = 0  # non-blank rows below the headers (0: not counted yet)
    converted: bool = True  # False: ``content`` is still the workbook

    def all_rows(self) -> Iterator[tuple[int, list[str]]]:
        """Every row, blank or not, numbered as a spreadsheet numbers them."""
        if not self.converted:
            yield from _xlsx_rows(self.content)
        else:
            yield from _csv_rows(self.content, self.encoding, self.delimiter)

    def data_rows(self) -> Iterator[tuple[int, list[str]]]:
        """The non-blank rows below the header row."""
        for number, cells in self.all_rows():
            if number > self.header_row and any(cells):
                yield number, cells

    def describe(self) -> str:
        if self.format == "xlsx":
            return _("Excel workbook (first sheet)")
        delimiter = {",": _("comma"), ";": _("semicolon"), "\t": _("tab")}.get(
            self.delimiter, self.delimiter
        )
        return _("CSV, {encoding}, separated by {delimiter}").format(
            encoding=self.encoding, delimiter=delimiter
        )


def clean_cell(value: Any) -> str:
    """A cell as text: trimmed, single spaces, whole numbers without '.0', dates as ISO."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).replace("\u00a0", " ").replace("\u200b", "").replace("\ufeff", "")
    return " ".join(text.split())


def _xlsx_rows(content: bytes) -> Iterator[tuple[int, list[str]]]:
    import openpyxl

    workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        # min_row=1: rows are numbered from the top even when the first ones are empty.
        for number, row in enumerate(sheet.iter_rows(min_row=1, values_only=True), 1):
            cells = [clean_cell(v) for v in row[:MAX_COLUMNS]]
            while cells and not cells[-1]:
                cells.pop()
            yield number, cells
    finally:
        workbook.close()


def _csv_rows(content: bytes, encoding: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    text = content.decode(encoding)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    number = 0
    try:
        for number, row in enumerate(reader, 1):
            yield number, [clean_cell(v) for v in row[:MAX_COLUMNS]]
    except csv.Error as exc:
        raise ImportFileError(
            _("Row {row} of the file cannot be read ({error}).").format(row=number + 1, error=exc)
        ) from exc


def _decode(content: bytes) -> tuple[str, str]:
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text"
        return content.decode("utf-16"), "utf-16"
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            return content.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes any byte")  # pragma: no cover


def _looks_binary(text: str) -> bool:
    sample = text[:65536]
    if "\x00" in sample:
        return True
    controls = sum(1 for c in sample if ord(c) < 32 and c not in "\t\r\n\x0c")
    return controls > max(2, len(sample) // 100)


def _sniff_delimiter(text: str) -> str:
    lines = [line for line in text.splitlines()[:50] if line.strip()]
    if not lines:
        return ","
    hint = re.fullmatch(r'"?sep=(.)"?', lines[0].strip())  # Excel's "sep=;" first line
    if hint:
        return hint.group(1)
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=",;\t|").delimiter
    except csv.Error:
        counts = {d: lines[0].count(d) for d in (";", ",", "\t", "|")}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


def detect_format(content: bytes, filename: str = "") -> Sheet:
    """What the file is, from its bytes; refuses anything but CSV and XLSX."""
    name = filename.lower()
    extension = name[name.rfind(".") :] if "." in name else ""
    if not content or not content.strip():
        raise ImportFileError(_("The file is empty."))
    if len(content) > MAX_BYTES:
        raise ImportFileError(
            _("The file is larger than {size} MB; split it into smaller files.").format(
                size=MAX_BYTES // (1024 * 1024)
            )
        )
    if content.startswith(OLE_MAGIC):
        raise ImportFileError(
            _(
                "This is an old Excel file (.xls) or a workbook protected with a password. "
                "Save it as an Excel workbook (.xlsx) without a password, or as CSV."
            )
        )
    if content.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(content)) as archive:
                names = set(archive.namelist())
                unpacked = sum(info.file_size for info in archive.infolist())
        except zipfile.BadZipFile as exc:
            raise ImportFileError(_("The file is damaged and cannot be opened.")) from exc
        if "xl/workbook.xml" not in names:
            raise ImportFileError(
                _("This file is not a CSV or Excel (.xlsx) file. Save it as one of those.")
            )
        if unpacked > MAX_UNPACKED:
            raise ImportFileError(_("The workbook is too large once unpacked; split it."))
        return Sheet(content=content, format="xlsx")
    if extension and extension not in TEXT_EXTENSIONS:
        if extension in XLSX_EXTENSIONS:
            raise ImportFileError(_("The file is named .xlsx but is not an Excel workbook."))
        raise ImportFileError(
            _("This file is not a CSV or Excel (.xlsx) file. Save it as one of those.")
        )
    text, encoding = _decode(content)
    if _looks_binary(text):
        raise ImportFileError(
            _("This file is not a CSV or Excel (.xlsx) file. Save it as one of those.")
        )
    return Sheet(content=content, format="csv", encoding=encoding, delimiter=_sniff_delimiter(text))


def read_sheet(
    content: bytes, filename: str = "", kind: str = Kind.COMPANIES, *, head_only: bool = False
) -> Sheet:
    """Open an uploaded file, find its header row and count its rows, within the limits.

    The header row is the first of the first ten non-blank rows in which at
    least two headers are recognised (title rows above it are skipped), or
    else the first non-blank row. A workbook's first sheet is converted to
    CSV here, once, so that every later pass reads it quickly; with
    ``head_only`` a workbook is read only down to its headers (its rows are
    counted and converted later, by ``StoredUpload.sheet()`` in a job).
    """
    sheet = detect_format(content, filename)
    head_only = head_only and sheet.format == "xlsx"
    aliases = _aliases(kind)
    converted = io.StringIO() if sheet.format == "xlsx" else None
    writer = csv.writer(converted, lineterminator="\n") if converted is not None else None
    candidates: list[tuple[int, list[str]]] = []
    count = 0
    try:
        rows = _xlsx_rows(sheet.content) if sheet.format == "xlsx" else sheet.all_rows()
        for number, cells in rows:
            if writer is not None:
                writer.writerow(cells)
            if not any(cells):
                continue
            if not sheet.header_row:
                candidates.append((number, cells))
                recognised = sum(1 for c in cells if normalise(c) in aliases)
                if recognised >= 2 or len(candidates) == 10:
                    sheet.header_row, sheet.headers = (
                        (number, cells) if recognised >= 2 else candidates[0]
                    )
                    count = sum(1 for n, _c in candidates if n > sheet.header_row)
                    if head_only:
                        break
                continue
            count += 1
            if count > MAX_ROWS:
                raise ImportFileError(
                    _("The file has more than {limit} rows; split it into smaller files.").format(
                        limit=f"{MAX_ROWS:,}"
                    )
                )
    except ImportFileError:
        raise
    except Exception as exc:  # openpyxl raises many kinds of errors on damaged workbooks
        raise ImportFileError(
            _("The file cannot be read: it may be damaged. ({error})").format(error=exc)
        ) from exc
    if not sheet.header_row:
        if not candidates:
            raise ImportFileError(_("The file is empty."))
        sheet.header_row, sheet.headers = candidates[0]
        count = len(candidates) - 1
    sheet.headers = list(sheet.headers)
    while sheet.headers and not sheet.headers[-1]:
        sheet.headers.pop()
    if head_only:
        sheet.converted = False
        return sheet
    if count == 0:
        raise ImportFileError(_("The file has column headers but no rows to import."))
    if converted is not None:
        sheet.content = converted.getvalue().encode("utf-8")
        sheet.encoding, sheet.delimiter = "utf-8", ","
    sheet.row_count = count
    return sheet


# Values ---------------------------------------------------------------------


def _state_aliases() -> dict[str, str]:
    table: dict[str, str] = {}
    for member in State:
        code, name = member.value, str(member.label)
        table[code] = table[str(int(code))] = code
        table[normalise(name)] = code
        table[normalise(member.name)] = code
        short = re.sub(r" (de zaragoza|de ocampo|de ignacio de la llave)$", "", normalise(name))
        table[short] = code
    extra = {
        "09": ("cdmx", "df", "distrito federal", "mexico city", "ciudad de mexico"),
        "15": (
            "mexico",
            "edo mex",
            "edomex",
            "edo de mexico",
            "state of mexico",
            "estado de mexico",
        ),
        "22": ("queretaro de arteaga", "qro"),
        "23": ("q roo",),
        "19": ("n l",),
        "24": ("s l p",),
        "03": ("b c s",),
        "02": ("b c",),
    }
    for code, names in extra.items():
        for name in names:
            table[name] = code
    return {**table, **{k.replace(" ", ""): v for k, v in table.items()}}


STATES = _state_aliases()

SIZES: dict[str, str] = {
    "micro": Company.SizeBand.MICRO,
    "microempresa": Company.SizeBand.MICRO,
    "pequena": Company.SizeBand.SMALL,
    "peq": Company.SizeBand.SMALL,
    "small": Company.SizeBand.SMALL,
    "mediana": Company.SizeBand.MEDIUM,
    "med": Company.SizeBand.MEDIUM,
    "medium": Company.SizeBand.MEDIUM,
    "grande": Company.SizeBand.LARGE,
    "large": Company.SizeBand.LARGE,
}
ENTITY_TYPES: dict[str, str] = {
    "moral": Company.EntityType.LEGAL,
    "legal": Company.EntityType.LEGAL,
    "pm": Company.EntityType.LEGAL,
    "fisica": Company.EntityType.NATURAL,
    "natural": Company.EntityType.NATURAL,
    "pf": Company.EntityType.NATURAL,
}
LANGUAGES = {
    "es": "es",
    "esp": "es",
    "espanol": "es",
    "castellano": "es",
    "spanish": "es",
    "en": "en",
    "ing": "en",
    "ingles": "en",
    "english": "en",
}
YES = frozenset({"si", "s", "yes", "y", "x", "1", "true", "verdadero", "v"})
NO = frozenset({"no", "n", "0", "false", "falso", "f"})
HONORIFICS = frozenset(
    {"lic", "ing", "dr", "dra", "mtro", "mtra", "arq", "cp", "c p", "lcp", "sr", "sra", "srita"}
    | {"prof", "profa", "don", "dona", "mr", "mrs", "ms"}
)
PARTICLES = frozenset(
    {"de", "del", "la", "las", "los", "y", "da", "do", "dos", "san", "van", "von"}
)


def first_word(value: str) -> str:
    words = normalise(value).split()
    return words[0] if words else ""


def size_from_employees(employees: int) -> str:
    """The size band the model's labels give for a headcount."""
    if employees <= 10:
        return Company.SizeBand.MICRO
    if employees <= 50:
        return Company.SizeBand.SMALL
    if employees <= 250:
        return Company.SizeBand.MEDIUM
    return Company.SizeBand.LARGE


def parse_bool(value: str) -> bool | None:
    key = normalise(value)
    if key in YES:
        return True
    if key in NO or not key:
        return False
    return None


def parse_date(value: str) -> str:
    """ISO dates, or day-first as Mexico writes them; anything else is left for the form."""
    for pattern in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%d/%m/%y"):
        try:
            return dt.datetime.strptime(value, pattern).date().isoformat()
        except ValueError:
            continue
    return value


def parse_whole_number(value: str) -> str:
    compact = value.replace(" ", "")
    if re.fullmatch(r"\d{1,3}(,\d{3})+", compact):
        return compact.replace(",", "")
    if re.fullmatch(r"\d+\.0+", compact):
        return compact.split(".")[0]
    return value


def normalise_rfc(value: str) -> str:
    return value.strip().upper().replace(" ", "").replace("-", "")


def normalise_email(value: str) -> str:
    value = value.strip().lower()
    return value[7:] if value.startswith("mailto:") else value


def _units(words: list[str]) -> list[str]:
    """Words grouped so that particles stay with the surname after them ("de la Torre")."""
    units: list[str] = []
    pending: list[str] = []
    for word in words:
        if normalise(word) in PARTICLES:
            pending.append(word)
            continue
        units.append(" ".join([*pending, word]))
        pending = []
    if pending:
        units.append(" ".join(pending))
    return units


def split_surnames(value: str) -> tuple[str, str]:
    """ "González Pérez" → ("González", "Pérez"); "de la Torre" stays whole."""
    units = _units(value.split())
    if len(units) <= 1:
        return value.strip(), ""
    return " ".join(units[:-1]), units[-1]


def split_name(value: str) -> tuple[str, str, str]:
    """A full Mexican name as (first name, last name, second last name).

    "María Fernanda González Pérez" → ("María Fernanda", "González", "Pérez");
    "González Pérez, María" (surnames first, with a comma) is understood too;
    a leading title ("Lic.", "Ing.") is dropped. Three words are read as one
    given name and two surnames; separate columns avoid the guess.
    """
    value = " ".join(value.split())
    if "," in value:
        surnames, given = (part.strip() for part in value.split(",", 1))
        last, second = split_surnames(surnames)
        return given, last, second
    words = value.split()
    while len(words) > 1 and normalise(words[0]) in HONORIFICS:
        words.pop(0)
    units = _units(words)
    if len(units) <= 1:
        return " ".join(units), "", ""
    if len(units) == 2:
        return units[0], units[1], ""
    return " ".join(units[:-2]), units[-2], units[-1]


# Row forms ------------------------------------------------------------------

LOOKED_UP = ("sector", "chamber", "tags")


class CompanyRowForm(CompanyForm):
    """``CompanyForm``'s fields and rules, for one spreadsheet row.

    Sector, chamber and tags arrive as codes and names, which the importer
    resolves against an index of the organisation; RFC duplicates are found
    in an index of the organisation and the file. So this form skips the
    per-row queries: the scoped choice fields, the RFC clash query, and the
    organisation's existence and unique checks (``organisation`` is excluded
    from model validation; the database constraint still guards the write).
    """

    class Meta(CompanyForm.Meta):
        fields: tuple[str, ...] = tuple(  # type: ignore[assignment]
            f for f in CompanyForm.Meta.fields if f not in LOOKED_UP
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # CompanyForm.__init__ only narrows the sector choices, which are not fields here.
        OrganisationModelForm.__init__(self, *args, **kwargs)

    def clean_rfc(self) -> str:
        return normalise_rfc(self.cleaned_data["rfc"])

    def _get_validation_exclusions(self) -> set[str]:
        return {*super()._get_validation_exclusions(), "organisation"}


class ContactRowForm(ContactForm):
    """``ContactForm``'s fields and rules for one row; the company is resolved by the importer."""

    class Meta(ContactForm.Meta):
        fields: tuple[str, ...] = tuple(  # type: ignore[assignment]
            f for f in ContactForm.Meta.fields if f != "company"
        )

    def _get_validation_exclusions(self) -> set[str]:
        return {*super()._get_validation_exclusions(), "organisation"}


def _form_errors(form: forms.BaseForm, prefix: str = "") -> list[str]:
    messages = []
    for name, errors in form.errors.items():
        if name == NON_FIELD_ERRORS or name not in form.fields:
            label = prefix.rstrip(": ") if prefix else ""
        else:
            label = prefix + str(form.fields[name].label or name)
        for error in errors:
            text = re.sub(r"<[^>]+>", "", str(error))
            messages.append(f"{capfirst(label)}: {text}" if label else text)
    return messages


def _initial_data(
    form_class: type[OrganisationModelForm], instance: Any, organisation: Any
) -> dict[str, Any]:
    """The values a form shows for ``instance``, as data it can be bound to."""
    form = form_class(instance=instance, organisation=organisation)
    data: dict[str, Any] = {}
    for name in form.fields:
        value = form[name].value()
        data[name] = "" if value is None else value
    return data


def _is_empty(value: Any) -> bool:
    return value in (None, "", False)


# The organisation's index -------------------------------------------------


def _chunks(values: Sequence[str], size: int = 500) -> Iterator[Sequence[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


@dataclass
class FileKeys:
    """What a file refers to, so that the index reads only those records."""

    rfcs: set[str] = field(default_factory=set)
    emails: set[str] = field(default_factory=set)
    last_names: set[str] = field(default_factory=set)
    names: bool = False  # rows name companies: every company's name is needed


def scan_keys(sheet: Sheet, options: Options) -> FileKeys:
    keys = FileKeys()
    for _number, cells in sheet.data_rows():
        for index, key in enumerate(options.mapping):
            if not key or index >= len(cells) or not cells[index]:
                continue
            value = cells[index]
            if key in ("rfc", "company_rfc"):
                keys.rfcs.add(normalise_rfc(value))
            elif key in ("email", "contact_email"):
                keys.emails.add(normalise_email(value))
            elif key in ("first_name", "last_name", "surnames", "full_name", "contact_name"):
                keys.last_names.update(value.split())
            elif key in ("legal_name", "company"):
                keys.names = True
    return keys


class Index:
    """What rows are compared with: the records of the organisation the file refers to.

    Read once per pass with a few queries (in chunks), so checking a row
    costs no query. Names are compared without case or accents.
    """

    def __init__(self, organisation: Organisation, keys: FileKeys) -> None:
        self.organisation = organisation
        self.company_by_rfc: dict[str, int] = {}
        self.companies_by_name: dict[str, list[int]] = {}
        self.company_names: dict[int, str] = {}
        companies = Company.objects.filter(organisation=organisation).order_by()
        for chunk in _chunks(sorted(keys.rfcs)):
            for pk, rfc, legal_name, trade_name in companies.filter(rfc__in=chunk).values_list(
                "pk", "rfc", "legal_name", "trade_name"
            ):
                self.company_by_rfc[rfc] = pk
                self.company_names[pk] = trade_name or legal_name
        if keys.names:
            rows = companies.values_list("pk", "legal_name", "trade_name")
            for pk, legal_name, trade_name in rows.iterator(chunk_size=5000):
                self.company_names[pk] = trade_name or legal_name
                for name in {normalise(legal_name), normalise(trade_name)} - {""}:
                    self.companies_by_name.setdefault(name, []).append(pk)

        self.contact_by_email: dict[str, int] = {}
        self.contact_by_name: dict[tuple[int | None, str], int] = {}
        self.contact_names: dict[int, str] = {}
        contacts = Contact.objects.filter(organisation=organisation).order_by()
        fields = ("pk", "email", "company_id", "first_name", "last_name", "second_last_name")
        queries = [contacts.filter(email__in=chunk) for chunk in _chunks(sorted(keys.emails))]
        queries += [
            contacts.filter(last_name__in=chunk) for chunk in _chunks(sorted(keys.last_names))
        ]
        if self.company_by_rfc:  # the people of companies a row may update
            queries.append(contacts.filter(company_id__in=list(self.company_by_rfc.values())))
        for query in queries:
            for pk, email, company_id, *names in query.values_list(*fields):
                self.add_contact(pk, email, company_id, names)

        self.sectors = {s.code: s for s in Sector.objects.all()}
        self.sectors_by_name: dict[str, Sector] = {}
        for sector in self.sectors.values():
            for name in (sector.name_es, sector.name_en):
                self.sectors_by_name.setdefault(normalise(name), sector)
        chambers = list(Chamber.objects.filter(organisation=organisation))
        self.chambers: dict[str, Chamber] = {normalise(c.name): c for c in chambers}
        for chamber in chambers:
            if chamber.acronym:
                self.chambers.setdefault(normalise(chamber.acronym), chamber)
        self.tags = {normalise(t.name): t for t in Tag.objects.filter(organisation=organisation)}
        # What this pass has seen in the file: key -> first row number.
        self.seen_rfc: dict[str, int] = {}
        self.seen_email: dict[str, int] = {}
        self.seen_name: dict[str, int] = {}

    def add_contact(
        self, pk: int, email: str, company_id: int | None, names: Sequence[str]
    ) -> None:
        full = " ".join(n for n in names if n)
        if email:
            self.contact_by_email[email.lower()] = pk
        self.contact_by_name.setdefault((company_id, normalise(full)), pk)
        self.contact_names[pk] = full

    def sector(self, value: str) -> Sector | None:
        """A SCIAN sector from its code (336, 31-33, or a longer class code) or its name."""
        match = re.match(r"^\s*(\d{2}\s*-\s*\d{2}|\d{2,6})(?!\d)", value)
        if not match:
            return self.sectors_by_name.get(normalise(value))
        code = re.sub(r"\s+", "", match.group(1))
        if code in self.sectors:
            return self.sectors[code]
        if len(code) == 2:  # 31, 32 and 33 are one sector in SCIAN: "31-33"
            for sector in self.sectors.values():
                low, _dash, high = sector.code.partition("-")
                if high and low <= code <= high:
                    return sector
        if len(code) > 3:  # a branch or class: its subsector
            return self.sectors.get(code[:3])
        return None

    def company_by_name(self, value: str) -> list[int]:
        return self.companies_by_name.get(normalise(value), [])


# Checking and writing rows --------------------------------------------------

TAG_LENGTH = Tag._meta.get_field("name").max_length or 60


@dataclass
class Options:
    kind: str
    on_duplicate: str = OnDuplicate.SKIP
    mapping: list[str] = field(default_factory=list)


@dataclass
class RowOutcome:
    number: int
    label: str = ""
    action: str = "new"  # new, update, skip or bad
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    existing: str = ""
    write: Callable[[], tuple[int, int]] | None = None  # -> (companies, contacts) written
    sample: dict[str, str] = field(default_factory=dict)


@dataclass
class ImportResult:
    """What an import found (and, after a commit, what it wrote). JSON-ready via ``as_dict``."""

    kind: str
    on_duplicate: str
    rows: int = 0
    new: int = 0
    update: int = 0
    skip: int = 0
    bad: int = 0
    bad_rows: list[dict[str, Any]] = field(default_factory=list)
    matched_rows: list[dict[str, Any]] = field(default_factory=list)
    warning_rows: list[dict[str, Any]] = field(default_factory=list)
    sample: list[dict[str, str]] = field(default_factory=list)
    committed: bool = False
    companies_written: int = 0
    contacts_written: int = 0
    error: str = ""
    seconds: float = 0.0

    @property
    def matched(self) -> int:
        return self.update + self.skip

    def add(self, outcome: RowOutcome) -> None:
        self.rows += 1
        if outcome.action == "bad":
            self.bad += 1
            if len(self.bad_rows) < MAX_LISTED:
                self.bad_rows.append(
                    {"row": outcome.number, "label": outcome.label, "errors": outcome.errors}
                )
            return
        setattr(self, outcome.action, getattr(self, outcome.action) + 1)
        if outcome.existing and len(self.matched_rows) < MAX_LISTED:
            self.matched_rows.append(
                {
                    "row": outcome.number,
                    "label": outcome.label,
                    "existing": outcome.existing,
                    "action": outcome.action,
                }
            )
        if outcome.warnings and len(self.warning_rows) < MAX_LISTED:
            self.warning_rows.append(
                {"row": outcome.number, "label": outcome.label, "warnings": outcome.warnings}
            )
        if outcome.sample and len(self.sample) < 5:
            self.sample.append(outcome.sample)

    def as_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return {**asdict(self), "matched": self.matched}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ImportResult:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})


class RowChecker:
    """Checks one row at a time against the index and, if it is good, says how to save it."""

    def __init__(self, organisation: Organisation, options: Options, keys: FileKeys) -> None:
        self.organisation = organisation
        self.options = options
        self.kind = options.kind
        self.index = Index(organisation, keys)
        self.company_defaults = _initial_data(
            CompanyRowForm, Company(organisation=organisation), organisation
        )
        self.contact_defaults = _initial_data(
            ContactRowForm, Contact(organisation=organisation), organisation
        )
        self.tag_cache: dict[str, Tag] = {}

    def label(self, key: str) -> str:
        return column_label(self.kind, key)

    def values(self, cells: Sequence[str]) -> dict[str, str]:
        values: dict[str, str] = {}
        for index, key in enumerate(self.options.mapping):
            if key and index < len(cells) and cells[index]:
                values[key] = cells[index]
        return values

    def check(self, number: int, cells: Sequence[str]) -> RowOutcome:
        values = self.values(cells)
        if self.kind == Kind.COMPANIES:
            return self.check_company(number, values)
        return self.check_contact(number, values)

    # Shared pieces ----------------------------------------------------------

    def choice(
        self,
        values: dict[str, str],
        key: str,
        table: dict[str, str],
        errors: list[str],
        *,
        by_word: bool = False,
    ) -> str:
        """A choice's code from a name, an abbreviation or a code, in any case or accents."""
        raw = values.get(key, "")
        if not raw:
            return ""
        text = normalise(raw)
        found = table.get(text) or table.get(text.replace(" ", ""))
        if not found and by_word:
            found = next((table[w] for w in text.split() if w in table), "")
        if not found:
            errors.append(
                _("{field}: “{value}” is not a known value.").format(
                    field=self.label(key), value=raw
                )
            )
        return found or ""

    def flag(self, values: dict[str, str], key: str, errors: list[str]) -> bool:
        if key not in values:
            return False
        parsed = parse_bool(values[key])
        if parsed is None:
            errors.append(
                _("{field}: write “sí” or “no”, not “{value}”.").format(
                    field=self.label(key), value=values[key]
                )
            )
        return bool(parsed)

    @staticmethod
    def merged(defaults: dict[str, Any], given: dict[str, Any], update: bool) -> dict[str, Any]:
        """Defaults (or the existing record's values) overlaid with the row's values.

        When updating, only the existing record's empty fields take the row's value.
        """
        data = dict(defaults)
        for key, value in given.items():
            if value in ("", None, False):
                continue
            if not update or _is_empty(data.get(key)):
                data[key] = value
        return data

    def contact_data(self, values: dict[str, str], prefix: str, errors: list[str]) -> dict:
        """A contact's form data from the row's name, phone, e-mail and position columns."""
        first = values.get(f"{prefix}first_name", "")
        last = values.get(f"{prefix}last_name", "")
        second = values.get(f"{prefix}second_last_name", "")
        full = values.get(f"{prefix}name" if prefix else "full_name", "")
        if not prefix and "surnames" in values and not last:
            last, second = split_surnames(values["surnames"])
        if not prefix and first and not last and not full:
            full, first = first, ""  # a lone "Nombre" column holds the whole name
        if full and not (first or last):
            first, last, second = split_name(full)
        data: dict[str, Any] = {
            "first_name": first,
            "last_name": last,
            "second_last_name": second,
            "position": values.get(f"{prefix}position", ""),
            "email": normalise_email(values.get(f"{prefix}email", "")),
            "phone": values.get(f"{prefix}phone", ""),
            "mobile": values.get(f"{prefix}mobile", ""),
        }
        if not prefix:
            data["notes"] = values.get("notes", "")
            data["language"] = self.choice(values, "language", LANGUAGES, errors, by_word=True)
            data["privacy_consent"] = self.flag(values, "privacy_consent", errors)
            if values.get("privacy_consent_on"):
                data["privacy_consent_on"] = parse_date(values["privacy_consent_on"])
            data["opt_out_email"] = self.flag(values, "opt_out_email", errors)
        return data

    @staticmethod
    def full_name(data: dict[str, Any]) -> str:
        parts = (data["first_name"], data["last_name"], data["second_last_name"])
        return " ".join(p for p in parts if p)

    def seen_before(self, seen: dict[str, int], key: str, number: int) -> int | None:
        """The earlier row of the file with the same key, if any."""
        first = seen.setdefault(key, number)
        return first if first != number else None

    def contact_plan(
        self,
        data: dict[str, Any],
        existing: Contact | None,
        company_id: int | None,
        outcome: RowOutcome,
        prefix: str,
    ) -> Callable[[int | None], int]:
        """Validate a contact's data; return how to save it once its company is known."""
        if existing is not None and existing.company_id not in (None, company_id) and company_id:
            # Someone who works elsewhere is not moved, nor given this company's details.
            outcome.warnings.append(
                _("{name} works at another company in the records; left as is.").format(
                    name=existing
                )
            )
            return lambda _company_id: 0
        update = existing is not None
        defaults = (
            _initial_data(ContactRowForm, existing, self.organisation)
            if existing is not None
            else self.contact_defaults
        )
        form = ContactRowForm(
            self.merged(defaults, data, update),
            instance=existing or Contact(organisation=self.organisation),
            organisation=self.organisation,
        )
        if not form.is_valid():
            outcome.errors.extend(_form_errors(form, prefix))

        def write(for_company_id: int | None) -> int:
            contact = form.save(commit=False)
            if for_company_id and contact.company_id is None:
                contact.company_id = for_company_id
            contact.save()
            return 1

        return write

    # Companies ------------------------------------------------------------------

    def check_company(self, number: int, values: dict[str, str]) -> RowOutcome:
        index = self.index
        outcome = RowOutcome(number, label=values.get("legal_name") or values.get("trade_name", ""))
        errors = outcome.errors
        rfc = normalise_rfc(values.get("rfc", ""))
        given: dict[str, Any] = {
            key: values.get(key, "")
            for key in ("legal_name", "trade_name", "municipality", "address", "website", "phone")
        }
        given["notes"] = values.get("notes", "")
        given["rfc"] = rfc
        entity_type = self.choice(values, "entity_type", ENTITY_TYPES, errors, by_word=True)
        if rfc and len(rfc) in (12, 13):
            derived = Company.EntityType.LEGAL if len(rfc) == 12 else Company.EntityType.NATURAL
            entity_type = entity_type or derived  # a contradicting type fails the model's check
        given["entity_type"] = entity_type
        given["state"] = self.choice(values, "state", STATES, errors)
        given["size_band"] = self.choice(values, "size_band", SIZES, errors, by_word=True)
        if values.get("employees"):
            given["employees"] = parse_whole_number(values["employees"])
            if not given["size_band"] and given["employees"].isdigit():
                given["size_band"] = size_from_employees(int(given["employees"]))
        postal_code = values.get("postal_code", "").replace(" ", "")
        if re.fullmatch(r"\d{4}", postal_code):  # a spreadsheet dropped the leading zero
            postal_code = "0" + postal_code
        if postal_code and not re.fullmatch(r"\d{5}", postal_code):
            errors.append(
                _("{field}: a Mexican postal code has five digits, not “{value}”.").format(
                    field=self.label("postal_code"), value=values["postal_code"]
                )
            )
        given["postal_code"] = postal_code
        for key in ("is_member", "is_prospect", "is_supplier", "is_public_body"):
            given[key] = self.flag(values, key, errors)
        sector = None
        if values.get("sector"):
            sector = index.sector(values["sector"])
            if sector is None:
                errors.append(
                    _("SCIAN: “{value}” is not a SCIAN sector or subsector code.").format(
                        value=values["sector"]
                    )
                )
        chamber = None
        if values.get("chamber"):
            chamber = index.chambers.get(normalise(values["chamber"]))
            if chamber is None:
                errors.append(
                    _(
                        "Chamber: no chamber is called “{value}”; add it under Chambers first."
                    ).format(value=values["chamber"])
                )
        tag_names = [t.strip() for t in re.split(r"[,;|]", values.get("tags", "")) if t.strip()]
        for tag in tag_names:
            if len(tag) > TAG_LENGTH:
                errors.append(_("Tags: “{value}” is too long for a tag.").format(value=tag))

        if rfc:
            earlier = self.seen_before(index.seen_rfc, rfc, number)
            if earlier:
                errors.append(
                    _("RFC {rfc} is repeated in the file: row {row} has it too.").format(
                        rfc=rfc, row=earlier
                    )
                )
        elif values.get("legal_name"):
            earlier = self.seen_before(index.seen_name, normalise(values["legal_name"]), number)
            if earlier:
                outcome.warnings.append(
                    _("Same legal name as row {row}, and no RFC to tell them apart.").format(
                        row=earlier
                    )
                )
            elif index.company_by_name(values["legal_name"]):
                outcome.warnings.append(
                    _(
                        "A company with this name is already on file; without an RFC to match "
                        "it, this row adds another one."
                    )
                )

        existing: Company | None = None
        existing_pk = index.company_by_rfc.get(rfc) if rfc else None
        if existing_pk is not None:
            outcome.existing = index.company_names[existing_pk]
            if self.options.on_duplicate == OnDuplicate.SKIP:
                # A skipped row is left out whole; what else it holds does not matter.
                outcome.action = "skip"
                outcome.errors, outcome.warnings = [], []
                return outcome
            if self.options.on_duplicate == OnDuplicate.CREATE:
                errors.append(
                    _("A company with RFC {rfc} already exists: {name}.").format(
                        rfc=rfc, name=outcome.existing
                    )
                )
            else:
                outcome.action = "update"
                existing = Company.objects.get(pk=existing_pk)

        update = existing is not None
        defaults = (
            _initial_data(CompanyRowForm, existing, self.organisation)
            if existing is not None
            else self.company_defaults
        )
        form = CompanyRowForm(
            self.merged(defaults, given, update),
            instance=existing or Company(organisation=self.organisation),
            organisation=self.organisation,
        )
        if not form.is_valid():
            errors.extend(_form_errors(form))
        contact = self.company_contact(number, values, existing, outcome)
        if errors:
            return self.bad(outcome)
        if existing is not None:
            # A sector or chamber only fills an empty one; tags are added.
            sector = sector if existing.sector_id is None else None
            chamber = chamber if existing.chamber_id is None else None
        outcome.sample = self.company_sample(form, sector, chamber, contact)
        plan = contact[1] if contact else None

        def write() -> tuple[int, int]:
            company = form.save(commit=False)
            if sector is not None:
                company.sector = sector
            if chamber is not None:
                company.chamber = chamber
            company.save()
            if tag_names:
                company.tags.add(*(self.tag(name) for name in tag_names))
            # The index stays as it was before the pass (repeats within the file are
            # found by seen_rfc), so that writing sees the rows as the preview did.
            return 1, plan(company.pk) if plan else 0

        outcome.write = write
        return outcome

    def company_contact(
        self, number: int, values: dict[str, str], company: Company | None, outcome: RowOutcome
    ) -> tuple[str, Callable[[int | None], int] | None] | None:
        """Check the row's main contact: (its name, how to save it), or None without one."""
        if not any(values.get(key) for key in CONTACT_PARTS):
            return None
        errors = outcome.errors
        data = self.contact_data(values, "contact_", errors)
        if not (data["first_name"] and data["last_name"]):
            errors.append(
                _(
                    "Contact: give the contact's first and last name (as “Nombre Apellido”), "
                    "or leave the contact's columns empty."
                )
            )
            return None
        name, email = self.full_name(data), data["email"]
        existing = None
        if email:
            earlier = self.seen_before(self.index.seen_email, email, number)
            if earlier:
                errors.append(
                    _("The e-mail {email} is repeated in the file: row {row} has it too.").format(
                        email=email, row=earlier
                    )
                )
            existing_pk = self.index.contact_by_email.get(email)
            if existing_pk is not None:
                on_file = self.index.contact_names[existing_pk]
                if self.options.on_duplicate == OnDuplicate.CREATE:
                    errors.append(
                        _("A contact with the e-mail {email} already exists: {name}.").format(
                            email=email, name=on_file
                        )
                    )
                    return None
                if self.options.on_duplicate == OnDuplicate.SKIP:
                    outcome.warnings.append(
                        _("The contact {email} is already on file and was left as it is.").format(
                            email=email
                        )
                    )
                    return name, None
                existing = Contact.objects.get(pk=existing_pk)
        elif company is not None:
            existing_pk = self.index.contact_by_name.get((company.pk, normalise(name)))
            if existing_pk is not None:
                existing = Contact.objects.get(pk=existing_pk)
        prefix = _("Contact") + " – "
        company_id = company.pk if company is not None else None
        return name, self.contact_plan(data, existing, company_id, outcome, prefix)

    def company_sample(
        self,
        form: forms.ModelForm,
        sector: Sector | None,
        chamber: Chamber | None,
        contact: tuple[str, Any] | None,
    ) -> dict[str, str]:
        data = form.cleaned_data
        return {
            str(capfirst(_("legal name"))): data.get("legal_name", ""),
            _("RFC"): data.get("rfc", ""),
            str(capfirst(_("entity type"))): str(
                dict(Company.EntityType.choices).get(data.get("entity_type", ""), "")
            ),
            _("SCIAN"): sector.code if sector else "",
            str(capfirst(_("state"))): str(dict(State.choices).get(data.get("state") or "", "")),
            str(capfirst(_("chamber"))): str(chamber or ""),
            str(capfirst(_("contact"))): contact[0] if contact else "",
        }

    # Contacts -------------------------------------------------------------------

    def check_contact(self, number: int, values: dict[str, str]) -> RowOutcome:
        index = self.index
        errors: list[str] = []
        data = self.contact_data(values, "", errors)
        full = self.full_name(data)
        outcome = RowOutcome(number, label=full or data["email"], errors=errors)
        company_pk = None
        if values.get("company_rfc"):
            rfc = normalise_rfc(values["company_rfc"])
            company_pk = index.company_by_rfc.get(rfc)
            if company_pk is None:
                errors.append(_("Company: no company on file has the RFC {rfc}.").format(rfc=rfc))
        elif values.get("company"):
            matches = index.company_by_name(values["company"])
            if len(matches) == 1:
                company_pk = matches[0]
            elif matches:
                errors.append(
                    _(
                        "Company: {count} companies are called “{name}”; add a column with the "
                        "company's RFC."
                    ).format(count=len(matches), name=values["company"])
                )
            else:
                errors.append(
                    _(
                        "Company: no company on file is called “{name}”; import the companies "
                        "first or correct the name."
                    ).format(name=values["company"])
                )
        email = data["email"]
        existing = None
        if email:
            earlier = self.seen_before(index.seen_email, email, number)
            if earlier:
                errors.append(
                    _("The e-mail {email} is repeated in the file: row {row} has it too.").format(
                        email=email, row=earlier
                    )
                )
            existing_pk = index.contact_by_email.get(email)
            if existing_pk is not None:
                outcome.existing = index.contact_names[existing_pk]
                if self.options.on_duplicate == OnDuplicate.SKIP:
                    outcome.action = "skip"
                    outcome.errors, outcome.warnings = [], []
                    return outcome
                if self.options.on_duplicate == OnDuplicate.CREATE:
                    errors.append(
                        _("A contact with the e-mail {email} already exists: {name}.").format(
                            email=email, name=outcome.existing
                        )
                    )
                else:
                    outcome.action = "update"
                    existing = Contact.objects.get(pk=existing_pk)
        elif full and (company_pk, normalise(full)) in index.contact_by_name:
            outcome.warnings.append(
                _("A contact with this name is already on file at the same company.")
            )
        plan = self.contact_plan(data, existing, company_pk, outcome, "")
        if errors:
            return self.bad(outcome)
        outcome.sample = {
            str(capfirst(_("first name"))): data["first_name"],
            str(capfirst(_("last name"))): data["last_name"],
            str(capfirst(_("second last name"))): data["second_last_name"],
            str(capfirst(_("e-mail"))): email,
            str(capfirst(_("company"))): index.company_names.get(company_pk or 0, ""),
        }

        def write() -> tuple[int, int]:
            return 0, plan(company_pk)

        outcome.write = write
        return outcome

    @staticmethod
    def bad(outcome: RowOutcome) -> RowOutcome:
        outcome.action = "bad"
        outcome.write = None
        return outcome

    def tag(self, name: str) -> Tag:
        key = normalise(name)
        if key not in self.tag_cache:
            tag = self.index.tags.get(key)
            if tag is None:
                tag = Tag(organisation=self.organisation, name=name)
                tag.full_clean()
                tag.save()
                self.index.tags[key] = tag
            self.tag_cache[key] = tag
        return self.tag_cache[key]


# Preview and commit ---------------------------------------------------------------


class Progress:
    """Reports a pass's progress to a job (if any) as part of a bigger whole."""

    def __init__(self, reporter: Any, total: int, start: int = 0, span: int = 100) -> None:
        self.reporter = reporter
        self.total = total
        self.start = start
        self.span = span

    def __call__(self, done: int, message: str) -> None:
        if self.reporter is None:
            return
        if done % 250 and done != self.total:
            return
        share = done * self.span // max(self.total, 1)
        self.reporter.progress(self.start + share, 100, message)


def _pass(
    sheet: Sheet,
    *,
    organisation: Organisation,
    options: Options,
    write: bool,
    progress: Progress,
    message: str,
) -> ImportResult:
    started = time.monotonic()
    checker = RowChecker(organisation, options, scan_keys(sheet, options))
    result = ImportResult(kind=options.kind, on_duplicate=options.on_duplicate)
    for done, (number, cells) in enumerate(sheet.data_rows(), 1):
        outcome = checker.check(number, cells)
        result.add(outcome)
        if write and outcome.write is not None and not result.bad:
            companies, contacts = outcome.write()
            result.companies_written += companies
            result.contacts_written += contacts
        progress(done, message.format(done=done, total=sheet.row_count))
    result.seconds = round(time.monotonic() - started, 2)
    return result


def preview(
    sheet: Sheet, *, organisation: Organisation, options: Options, reporter: Any = None
) -> ImportResult:
    """Check every row; write nothing."""
    return _pass(
        sheet,
        organisation=organisation,
        options=options,
        write=False,
        progress=Progress(reporter, sheet.row_count),
        message=_("Checked {done} of {total} rows"),
    )


class _Rollback(Exception):
    def __init__(self, result: ImportResult) -> None:
        self.result = result


def commit(
    sheet: Sheet,
    *,
    organisation: Organisation,
    options: Options,
    reporter: Any = None,
    precheck: bool = True,
) -> ImportResult:
    """Write every row in one transaction, or nothing when any row is bad or anything fails.

    With ``precheck`` the rows are first checked outside the transaction, so
    a bad file holds no lock and a job's progress is visible while checking
    (progress reported inside the transaction shows only once it commits).
    Exceptions other than bad rows (a database error) propagate after the
    rollback.
    """
    if precheck:
        checked = _pass(
            sheet,
            organisation=organisation,
            options=options,
            write=False,
            progress=Progress(reporter, sheet.row_count, 0, 50),
            message=_("Checked {done} of {total} rows"),
        )
        if checked.bad:
            checked.error = _("Nothing was imported: {count} rows have errors.").format(
                count=checked.bad
            )
            return checked
    try:
        with transaction.atomic():
            result = _pass(
                sheet,
                organisation=organisation,
                options=options,
                write=True,
                progress=Progress(reporter, sheet.row_count, 50 if precheck else 0, 50),
                message=_("Saved {done} of {total} rows"),
            )
            if result.bad:
                raise _Rollback(result)
    except _Rollback as rollback:
        result = rollback.result
        result.companies_written = result.contacts_written = 0
        result.error = _("Nothing was imported: {count} rows have errors.").format(count=result.bad)
        return result
    result.committed = True
    return result


def bad_rows_csv(sheet: Sheet, result: ImportResult) -> str:
    """The bad rows as they were in the file, with a first column saying what is wrong."""
    reasons = {row["row"]: " ".join(row["errors"]) for row in result.bad_rows}
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("Row"), _("Errors"), *sheet.headers])
    for number, cells in sheet.data_rows():
        if number in reasons:
            writer.writerow([number, reasons[number], *cells])
    return out.getvalue()


# Uploads waiting for their preview or commit ------------------------------------

TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


class StoredUpload:
    """An uploaded file kept under MEDIA_ROOT until it is imported (or a day has passed).

    Its directory is ``imports/<organisation id>/<user id>/<random token>/``:
    a token only finds an upload of the same user in the same organisation,
    and nothing the client sends becomes part of a path except a token that
    matches ``TOKEN``.
    """

    def __init__(self, directory: Path, meta: dict[str, Any]) -> None:
        self.directory = directory
        self.meta = meta

    @staticmethod
    def root() -> Path:
        return Path(settings.MEDIA_ROOT) / "imports"

    @classmethod
    def directory_for(cls, organisation_id: int, user_id: int, token: str) -> Path:
        return cls.root() / str(int(organisation_id)) / str(int(user_id)) / token

    @classmethod
    def create(
        cls,
        *,
        organisation_id: int,
        user_id: int,
        sheet: Sheet,
        filename: str,
        kind: str,
        on_duplicate: str,
        language: str,
    ) -> StoredUpload:
        cls.sweep(organisation_id)
        token = secrets.token_urlsafe(24)
        directory = cls.directory_for(organisation_id, user_id, token)
        directory.mkdir(parents=True, exist_ok=False)
        (directory / "upload").write_bytes(sheet.content)
        guess = guess_mapping(sheet.headers, kind)
        upload = cls(
            directory,
            {
                "token": token,
                "filename": Path(filename).name[:200],
                "kind": kind,
                "on_duplicate": on_duplicate,
                "language": language,
                "format": sheet.format,
                "encoding": sheet.encoding,
                "delimiter": sheet.delimiter,
                "header_row": sheet.header_row,
                "headers": sheet.headers,
                "row_count": sheet.row_count if sheet.converted else None,
                "converted": sheet.converted,
                "mapping": guess.mapping,
                "mapped": guess.complete,
                "created": time.time(),
            },
        )
        upload.save()
        return upload

    @classmethod
    def load(cls, *, organisation_id: int, user_id: Any, token: Any) -> StoredUpload | None:
        if not isinstance(token, str) or not TOKEN.match(token) or user_id is None:
            return None
        directory = cls.directory_for(organisation_id, user_id, token)
        try:
            meta = json.loads((directory / "meta.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if time.time() - meta.get("created", 0) > UPLOAD_TTL.total_seconds():
            return None
        return cls(directory, meta)

    @classmethod
    def sweep(cls, organisation_id: int) -> None:
        """Remove this organisation's uploads older than a day."""
        base = cls.root() / str(int(organisation_id))
        limit = time.time() - UPLOAD_TTL.total_seconds()
        if not base.is_dir():
            return
        for directory in base.glob("*/*"):
            with contextlib.suppress(OSError):
                if (directory / "meta.json").stat().st_mtime < limit:
                    shutil.rmtree(directory, ignore_errors=True)

    @property
    def token(self) -> str:
        return str(self.meta["token"])

    @property
    def options(self) -> Options:
        return Options(
            kind=self.meta["kind"],
            on_duplicate=self.meta["on_duplicate"],
            mapping=list(self.meta["mapping"]),
        )

    @property
    def has_data(self) -> bool:
        return (self.directory / "upload").is_file()

    def _read(self, name: str) -> bytes:
        try:
            return (self.directory / name).read_bytes()
        except OSError as exc:
            raise ImportFileError(
                _("The uploaded file is no longer available; upload it again.")
            ) from exc

    def sheet(self) -> Sheet:
        """The upload as a sheet; a big workbook is read whole (and kept as CSV) the first time."""
        meta = self.meta
        if meta.get("converted", True):
            return Sheet(
                content=self._read("upload"),
                format=meta["format"],
                encoding=meta["encoding"],
                delimiter=meta["delimiter"],
                header_row=meta["header_row"],
                headers=list(meta["headers"]),
                row_count=meta["row_count"],
            )
        try:
            info = json.loads((self.directory / "sheet.json").read_text(encoding="utf-8"))
            return Sheet(
                content=self._read("upload.csv"),
                format="xlsx",
                encoding="utf-8",
                delimiter=",",
                header_row=info["header_row"],
                headers=info["headers"],
                row_count=info["row_count"],
            )
        except (OSError, ValueError, KeyError, ImportFileError):
            pass
        sheet = read_sheet(self._read("upload"), meta["filename"], meta["kind"])
        self._write("upload.csv", sheet.content)
        info = {
            "header_row": sheet.header_row,
            "headers": sheet.headers,
            "row_count": sheet.row_count,
        }
        self._write("sheet.json", json.dumps(info).encode())
        return sheet

    def head(self, rows: int) -> list[list[str]]:
        """The first data rows, without reading a big workbook whole."""
        meta = self.meta
        sheet = Sheet(
            content=self._read("upload"),
            format=meta["format"],
            encoding=meta["encoding"],
            delimiter=meta["delimiter"],
            header_row=meta["header_row"],
            converted=meta.get("converted", True),
        )
        return [cells for _number, cells in itertools.islice(sheet.data_rows(), rows)]

    @property
    def row_count(self) -> int | None:
        """The rows to import, or None while a big workbook has not been read whole."""
        if self.meta.get("row_count") is not None:
            return int(self.meta["row_count"])
        try:
            info = json.loads((self.directory / "sheet.json").read_text(encoding="utf-8"))
            return int(info["row_count"])
        except (OSError, ValueError, KeyError):
            return None

    def _write(self, name: str, content: bytes) -> None:
        temporary = self.directory / f"{name}.tmp-{secrets.token_hex(4)}"
        temporary.write_bytes(content)
        temporary.replace(self.directory / name)

    def save(self) -> None:
        self._write("meta.json", json.dumps(self.meta).encode())

    def discard_data(self) -> None:
        for name in ("upload", "upload.csv"):
            with contextlib.suppress(OSError):
                (self.directory / name).unlink()

    @property
    def in_background(self) -> bool:
        count = self.row_count
        return count is None or count > BACKGROUND_ROWS


# Background jobs ------------------------------------------------------------------


def _job_upload(organisation: Organisation, user_id: int, token: str) -> StoredUpload:
    upload = StoredUpload.load(organisation_id=organisation.pk, user_id=user_id, token=token)
    if upload is None:
        raise ImportFileError(_("The uploaded file is no longer available; upload it again."))
    return upload


def preview_job(
    reporter: Any, *, organisation: Organisation, user_id: int, token: str
) -> dict[str, Any]:
    """Job: check a big upload's rows and keep the preview in the job's result."""
    upload = _job_upload(organisation, user_id, token)
    with translation.override(upload.meta.get("language")):
        if not upload.meta.get("converted", True):
            reporter.progress(0, 100, _("Reading the workbook"))
        try:
            sheet = upload.sheet()
        except ImportFileError as exc:
            return _refused(reporter, upload, exc)
        result = preview(
            sheet, organisation=organisation, options=upload.options, reporter=reporter
        )
        reporter.progress(100, 100, _("Checked {count} rows").format(count=result.rows))
    return result.as_dict()


def _refused(reporter: Any, upload: StoredUpload, exc: ImportFileError) -> dict[str, Any]:
    """A job's result for a file that cannot be imported at all."""
    options = upload.options
    reporter.progress(100, 100, exc.message)
    return ImportResult(
        kind=options.kind, on_duplicate=options.on_duplicate, error=exc.message
    ).as_dict()


def commit_job(
    reporter: Any, *, organisation: Organisation, user_id: int, token: str
) -> dict[str, Any]:
    """Job: import a big upload in one transaction, then discard the file."""
    upload = _job_upload(organisation, user_id, token)
    with translation.override(upload.meta.get("language")):
        if not upload.meta.get("converted", True):
            reporter.progress(0, 100, _("Reading the workbook"))
        try:
            sheet = upload.sheet()
        except ImportFileError as exc:
            return _refused(reporter, upload, exc)
        result = commit(sheet, organisation=organisation, options=upload.options, reporter=reporter)
        if result.committed:
            upload.discard_data()
            message = summary(result)
        else:
            message = result.error
        reporter.progress(100, 100, message)
    return result.as_dict()


def summary(result: ImportResult) -> str:
    """One line saying what an import did or would do."""
    if result.committed and result.kind == Kind.COMPANIES:
        return _(
            "Imported: {new} companies created, {update} updated, {skip} skipped; "
            "{contacts} contacts saved."
        ).format(
            new=result.new, update=result.update, skip=result.skip, contacts=result.contacts_written
        )
    if result.committed:
        return _("Imported: {new} contacts created, {update} updated, {skip} skipped.").format(
            new=result.new, update=result.update, skip=result.skip
        )
    return _(
        "{rows} rows: {new} new, {matched} match existing records ({update} to update, "
        "{skip} to skip), {bad} with errors."
    ).format(
        rows=result.rows,
        new=result.new,
        matched=result.matched,
        update=result.update,
        skip=result.skip,
        bad=result.bad,
    )
