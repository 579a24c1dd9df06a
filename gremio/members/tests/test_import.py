"""Importing companies and contacts from the spreadsheets organisations already keep."""

from __future__ import annotations

import csv
import io
import shutil
import tempfile
import zipfile
from pathlib import Path
from typing import Any, ClassVar
from unittest import mock

import openpyxl
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import IntegrityError
from django.test import TestCase, override_settings

from gremio.core.models import Job, ObjectChange, Organisation, User
from gremio.core.tests.factories import OrganisationFactory, member_of
from gremio.members import importing
from gremio.members.importing import ImportFileError, Kind, OnDuplicate, Options
from gremio.members.models import Company, Contact, Tag

from .factories import ChamberFactory, CompanyFactory, ContactFactory, valid_rfc

HEADERS = [
    "Razón social",
    "RFC",
    "Nombre comercial",
    "Tipo de persona",
    "Estado",
    "Municipio",
    "SCIAN",
    "Cámara",
    "Empleados",
    "Tamaño",
    "Contacto",
    "Puesto",
    "Correo electrónico",
    "Teléfono",
]

R_NEW = valid_rfc(1)
R_PERSON = valid_rfc(2, person=True)
R_EXISTING = valid_rfc(3)
R_OTHER_ORG = valid_rfc(4)


def row(legal: str = "", rfc: str = "", **extra: str) -> list[str]:
    values = dict.fromkeys(HEADERS, "")
    values["Razón social"], values["RFC"] = legal, rfc
    for key, value in extra.items():
        values[key.replace("_", " ")] = value
    return [values[h] for h in HEADERS]


def messy_rows() -> list[list[str]]:
    """A member list as people keep it: blank lines, accents, lower case, mistakes."""
    return [
        HEADERS,
        # 2: good; lower-case RFC, padded name, contact split into its parts.
        row(
            "  Electrónica Tapatía, S.A. de C.V.  ",
            "  " + R_NEW.lower() + " ",
            Nombre_comercial="Tapatía",
            Estado="jalisco",
            Municipio="Zapopan",
            SCIAN="334",
            Cámara="CANIETI",
            Empleados="120",
            Contacto="Lic. María Fernanda González Pérez",
            Puesto="Directora general",
            Correo_electrónico="MARIA@Tapatia.MX",
            Teléfono="33 1234 5678",
        ),
        [""] * len(HEADERS),  # 3: blank
        row("Autopartes del Bajío", "XYZ123"),  # 4: invalid RFC
        row("Plásticos Ñandú", R_PERSON, Estado="Querétaro", SCIAN="326"),  # 5: natural person
        row("Duplicado en el archivo", R_NEW),  # 6: same RFC as row 2
        row("Ya registrada", R_EXISTING),  # 7: on file
        row("", valid_rfc(10), Municipio="León"),  # 8: no legal name
        row("Sector raro", valid_rfc(11), SCIAN="999"),  # 9
        row("Estado raro", valid_rfc(12), Estado="Atlántida"),  # 10
        row("Cámara rara", valid_rfc(13), Cámara="CANACO"),  # 11
        row("Correo malo", valid_rfc(14), Contacto="Luis Pérez", Correo_electrónico="luis@@x"),
        row("Teléfono malo", valid_rfc(15), Teléfono="123"),  # 13
        row(
            "Correo repetido",
            valid_rfc(16),
            Contacto="Ana Ruiz",
            Correo_electrónico="maria@tapatia.mx",
        ),  # 14
        row("Tipo contradictorio", valid_rfc(17, person=True), Tipo_de_persona="Moral"),  # 15
        row(
            "Industrias de la Ciudad",
            valid_rfc(18),
            Estado="Ciudad de México",
            SCIAN="31-33",
            Cámara="canieti",
            Empleados="1,500",
        ),  # 16
        [""] * len(HEADERS),  # 17: blank
        row("Registrada en otro organismo", R_OTHER_ORG, Estado="14"),  # 18
    ]


BAD = {
    4: "is not a valid RFC",
    6: "repeated in the file: row 2",
    8: "Legal name: This field is required.",
    9: "is not a SCIAN sector or subsector code",
    10: "State: “Atlántida” is not a known value.",
    11: "no chamber is called “CANACO”",
    12: "Enter a valid email address.",
    13: "Phone: Enter a valid phone number",
    14: "The e-mail maria@tapatia.mx is repeated in the file: row 2",
    15: "A legal entity's RFC has 12 characters and a natural person's 13; this one has 13.",
}
NEW = (2, 5, 16, 18)


def xlsx(rows: list[list[Any]]) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    for values in rows:
        sheet.append(values)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def csv_bytes(rows: list[list[Any]], encoding: str = "cp1252", delimiter: str = ";") -> bytes:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode(encoding)


def sector_code(company: Company) -> str:
    return company.sector.code if company.sector else ""


def good_rows() -> list[list[str]]:
    rows = messy_rows()
    return [r for number, r in enumerate(rows, 1) if number not in BAD]


class ImportTestCase(TestCase):
    org: ClassVar[Organisation]
    other: ClassVar[Organisation]
    admin: ClassVar[User]
    existing: ClassVar[Company]
    media: str

    @classmethod
    def setUpTestData(cls) -> None:
        cls.org = OrganisationFactory.create(
            slug="importa", name="Consejo de Cámaras", language="en"
        )
        cls.other = OrganisationFactory.create(slug="importa-otro")
        cls.admin = member_of(cls.org, "admin", email="admin@importa.mx")
        ChamberFactory.create(
            organisation=cls.org,
            name="Cámara Nacional de la Industria Electrónica",
            acronym="CANIETI",
        )
        ChamberFactory.create(organisation=cls.other, name="Cámara de Comercio", acronym="CANACO")
        cls.existing = CompanyFactory.create(
            organisation=cls.org,
            legal_name="Ya Registrada, S.A.",
            trade_name="",
            rfc=R_EXISTING,
            municipality="Guadalajara",
        )
        CompanyFactory.create(organisation=cls.other, rfc=R_OTHER_ORG)

    def setUp(self) -> None:
        self.media = tempfile.mkdtemp(prefix="gremio-media-")
        self.addCleanup(shutil.rmtree, self.media, ignore_errors=True)
        patcher = override_settings(MEDIA_ROOT=self.media)
        patcher.enable()
        self.addCleanup(patcher.disable)

    def counts(self) -> tuple[int, int, int]:
        return (
            Company.objects.filter(organisation=self.org).count(),
            Contact.objects.filter(organisation=self.org).count(),
            ObjectChange.objects.filter(organisation=self.org).count(),
        )

    def run_preview(self, content: bytes, name: str, **options: Any) -> importing.ImportResult:
        sheet = importing.read_sheet(content, name, options.get("kind", Kind.COMPANIES))
        return importing.preview(
            sheet, organisation=self.org, options=self.options(sheet, **options)
        )

    def options(self, sheet: importing.Sheet, **options: Any) -> Options:
        kind = options.get("kind", Kind.COMPANIES)
        return Options(
            kind=kind,
            on_duplicate=options.get("on_duplicate", OnDuplicate.SKIP),
            mapping=importing.guess_mapping(sheet.headers, kind).mapping,
        )

    def run_commit(self, content: bytes, name: str, **options: Any) -> importing.ImportResult:
        sheet = importing.read_sheet(content, name, options.get("kind", Kind.COMPANIES))
        return importing.commit(
            sheet, organisation=self.org, options=self.options(sheet, **options)
        )


class PreviewTests(ImportTestCase):
    def assert_messy_preview(self, result: importing.ImportResult) -> None:
        reasons = {r["row"]: " ".join(r["errors"]) for r in result.bad_rows}
        assert set(reasons) == set(BAD), reasons
        for number, reason in BAD.items():
            assert reason in reasons[number], (number, reasons[number])
        assert (result.rows, result.new, result.skip, result.update, result.bad) == (
            15,
            4,
            1,
            0,
            10,
        )
        assert result.matched_rows == [
            {
                "row": 7,
                "label": "Ya registrada",
                "existing": "Ya Registrada, S.A.",
                "action": "skip",
            }
        ]

    def test_messy_workbook_reports_every_bad_row_and_writes_nothing(self) -> None:
        before = self.counts()
        self.assert_messy_preview(self.run_preview(xlsx(messy_rows()), "padrón.xlsx"))
        assert self.counts() == before

    def test_the_same_file_as_cp1252_csv_with_semicolons(self) -> None:
        content = csv_bytes(messy_rows())
        sheet = importing.read_sheet(content, "padron.csv")
        assert (sheet.encoding, sheet.delimiter, sheet.row_count) == ("cp1252", ";", 15)
        self.assert_messy_preview(self.run_preview(content, "padron.csv"))

    def test_utf8_with_bom_and_commas(self) -> None:
        content = b"\xef\xbb\xbf" + csv_bytes(messy_rows(), "utf-8", ",")
        sheet = importing.read_sheet(content, "padron.csv")
        assert (sheet.encoding, sheet.delimiter, sheet.headers[0]) == (
            "utf-8-sig",
            ",",
            "Razón social",
        )
        self.assert_messy_preview(self.run_preview(content, "padron.csv"))

    def test_create_mode_makes_a_match_an_error_and_update_mode_an_update(self) -> None:
        created = self.run_preview(xlsx(messy_rows()), "p.xlsx", on_duplicate=OnDuplicate.CREATE)
        reasons = {r["row"]: " ".join(r["errors"]) for r in created.bad_rows}
        assert f"A company with RFC {R_EXISTING} already exists: Ya Registrada, S.A." in reasons[7]
        updated = self.run_preview(xlsx(messy_rows()), "p.xlsx", on_duplicate=OnDuplicate.UPDATE)
        assert (updated.update, updated.skip, updated.bad) == (1, 0, 10)

    def test_another_organisations_company_is_not_a_match(self) -> None:
        result = self.run_preview(xlsx(messy_rows()), "p.xlsx")
        assert 18 not in {r["row"] for r in result.matched_rows}
        assert result.new == 4

    def test_title_rows_above_the_headers_are_skipped(self) -> None:
        rows = [["Padrón de afiliados 2026"], [], *good_rows()]
        sheet = importing.read_sheet(xlsx(rows), "p.xlsx")
        assert sheet.header_row == 3
        assert sheet.headers[:2] == ["Razón social", "RFC"]

    def test_ten_percent_bad_rows_are_all_listed(self) -> None:
        rows: list[list[str]] = [["Razón social", "RFC", "Correo", "Contacto"]]
        for n in range(200):
            email = f"persona{n}@empresa.mx" if n % 10 else f"persona{n}-empresa.mx"
            rows.append([f"Empresa {n}", valid_rfc(100 + n), email, f"Persona Número{n}"])
        result = self.run_preview(csv_bytes(rows, "utf-8", ","), "p.csv")
        assert (result.rows, result.bad, result.new) == (200, 20, 180)
        assert [r["row"] for r in result.bad_rows] == [2 + n for n in range(0, 200, 10)]
        expected = ["Contact – E-mail: Enter a valid email address."]
        assert [r for r in result.bad_rows if r["errors"] != expected] == []
        committed = self.run_commit(csv_bytes(rows, "utf-8", ","), "p.csv")
        assert not committed.committed and committed.bad == 20
        assert Company.objects.filter(organisation=self.org).count() == 1


class QueryCountTests(ImportTestCase):
    def test_checking_rows_costs_the_same_queries_for_20_or_200_rows(self) -> None:
        # Companies by RFC, all company names, contacts by e-mail and by name, sectors,
        # chambers, tags: read once (in chunks of 500 keys), whatever the number of rows.
        def rows(count: int) -> bytes:
            lines = [["Razón social", "RFC", "Contacto", "Correo", "Estado", "SCIAN", "Cámara"]]
            for n in range(count):
                lines.append(
                    [
                        f"Empresa {n}",
                        valid_rfc(500 + n),
                        f"Ana Pérez{n}",
                        f"a{n}@x.mx",
                        "14",
                        "336",
                        "CANIETI",
                    ]
                )
            return csv_bytes(lines, "utf-8", ",")

        small, big = (importing.read_sheet(rows(n), "q.csv") for n in (20, 200))
        options = self.options(small)
        with self.assertNumQueries(7):
            assert importing.preview(small, organisation=self.org, options=options).new == 20
        with self.assertNumQueries(7):
            assert importing.preview(big, organisation=self.org, options=options).new == 200


class ReadingTests(ImportTestCase):
    def assert_refused(self, content: bytes, name: str, message: str) -> None:
        with self.assertRaises(ImportFileError) as caught:
            importing.read_sheet(content, name)
        assert message in caught.exception.message, caught.exception.message

    def test_files_that_are_not_csv_or_xlsx_are_refused_by_content(self) -> None:
        pdf = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\x00\x00stream\x00\x01\x02"
        not_csv = "is not a CSV or Excel (.xlsx) file"
        self.assert_refused(pdf, "padron.csv", not_csv)  # a PDF renamed .csv
        self.assert_refused(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "foto.png", not_csv)
        self.assert_refused(
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "viejo.xls", ".xls"
        )
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w") as z:
            z.writestr("word/document.xml", "<w/>")
        self.assert_refused(archive.getvalue(), "carta.docx", not_csv)
        self.assert_refused(b"PK\x03\x04garbage", "roto.xlsx", "damaged")
        self.assert_refused(b"Razon social,RFC\nA,B\n", "datos.pdf", not_csv)
        self.assert_refused(b"Razon social,RFC\nA,B\n", "datos.xlsx", "not an Excel workbook")

    def test_empty_files_are_refused(self) -> None:
        self.assert_refused(b"", "vacio.csv", "The file is empty.")
        self.assert_refused(b"\r\n ;; \r\n\r\n", "vacio.csv", "The file is empty.")
        self.assert_refused(csv_bytes([HEADERS, [""] * len(HEADERS)]), "p.csv", "no rows to import")
        self.assert_refused(xlsx([]), "vacio.xlsx", "The file is empty.")

    def test_huge_files_are_refused(self) -> None:
        self.assert_refused(b"a" * (importing.MAX_BYTES + 1), "grande.csv", "larger than 20 MB")
        lines = ["Razón social;RFC", *(f"Empresa {n};" for n in range(importing.MAX_ROWS + 1))]
        content = "\n".join(lines).encode()
        assert len(content) < importing.MAX_BYTES
        self.assert_refused(content, "largo.csv", "more than 100,000 rows")

    def test_headers_match_without_case_or_accents_in_both_languages(self) -> None:
        guess = importing.guess_mapping(
            [
                "RAZON SOCIAL",
                "rfc ",
                "Trade name",
                "E-mail",
                "Phone",
                "STATE",
                "Nombre del contacto",
                "Position",
                "No. de empleados",
                "Giro",
                "",
            ],
            Kind.COMPANIES,
        )
        assert guess.mapping == [
            "legal_name",
            "rfc",
            "trade_name",
            "contact_email",
            "phone",
            "state",
            "contact_name",
            "contact_position",
            "employees",
            "",
            "",
        ]
        assert guess.unrecognised == [9]  # "Giro"; a column without a header is ignored
        ambiguous = importing.guess_mapping(["Razón social", "Empresa", "RFC"], Kind.COMPANIES)
        assert ambiguous.ambiguous == {"legal_name": [0, 1]} and not ambiguous.complete
        missing = importing.guess_mapping(["RFC", "Estado"], Kind.COMPANIES)
        assert missing.missing and not missing.complete

    def test_names_states_and_values_are_understood(self) -> None:
        assert importing.split_name("Lic. Juan Carlos de la Torre Ramírez") == (
            "Juan Carlos",
            "de la Torre",
            "Ramírez",
        )
        assert importing.split_name("González Pérez, María José") == (
            "María José",
            "González",
            "Pérez",
        )
        states = {k: importing.STATES.get(importing.normalise(k)) for k in ("Querétaro", "N.L.")}
        assert states == {"Querétaro": "22", "N.L.": "19"}
        assert importing.STATES["9"] == importing.STATES["cdmx"] == "09"
        assert importing.parse_date("05/03/2026") == "2026-03-05"

    def test_workbook_numbers_and_dates_become_text(self) -> None:
        import datetime as dt

        rows: list[list[Any]] = [["Razón social", "RFC", "Empleados", "CP", "Teléfono", "Notas"]]
        rows.append(["Números", valid_rfc(30), 45.0, 6700, 3312345678, dt.date(2026, 1, 5)])
        sheet = importing.read_sheet(xlsx(rows), "n.xlsx")
        assert list(sheet.data_rows()) == [
            (2, ["Números", valid_rfc(30), "45", "6700", "3312345678", "2026-01-05"])
        ]


class CommitTests(ImportTestCase):
    def test_commit_writes_the_good_rows_normalised_and_logs_them(self) -> None:
        companies, contacts, changes = self.counts()
        result = self.run_commit(xlsx(good_rows()), "p.xlsx")
        assert result.committed, result.bad_rows
        assert (result.companies_written, result.contacts_written, result.skip) == (4, 1, 1)
        tapatia = Company.objects.get(organisation=self.org, rfc=R_NEW)
        assert tapatia.legal_name == "Electrónica Tapatía, S.A. de C.V."
        assert tapatia.sector is not None and sector_code(tapatia) == "334"
        assert (tapatia.entity_type, tapatia.state) == ("legal", "14")
        assert (str(tapatia.chamber), tapatia.employees, tapatia.size_band) == (
            "CANIETI",
            120,
            "medium",
        )
        maria = Contact.objects.get(organisation=self.org, email="maria@tapatia.mx")
        assert (maria.first_name, maria.last_name, maria.second_last_name) == (
            "María Fernanda",
            "González",
            "Pérez",
        )
        assert maria.company == tapatia and maria.position == "Directora general"
        person = Company.objects.get(organisation=self.org, rfc=R_PERSON)
        assert (person.legal_name, person.entity_type, person.state) == (
            "Plásticos Ñandú",
            "natural",
            "22",
        )
        city = Company.objects.get(organisation=self.org, rfc=valid_rfc(18))
        assert (sector_code(city), city.employees, city.size_band, city.state) == (
            "31-33",
            1500,
            "large",
            "09",
        )
        self.existing.refresh_from_db()
        assert self.existing.legal_name == "Ya Registrada, S.A."  # skipped
        assert self.counts() == (companies + 4, contacts + 1, changes + 5)
        logged = ObjectChange.objects.filter(
            organisation=self.org,
            action="create",
            content_type=ContentType.objects.get_for_model(Company),
            object_id=str(tapatia.pk),
        ).get()
        assert (logged.postchange_data or {})["rfc"] == R_NEW

    def test_update_fills_only_the_empty_fields(self) -> None:
        Company.objects.filter(pk=self.existing.pk).update(phone="+523312345678")
        rows = [
            ["Razón social", "RFC", "Nombre comercial", "Municipio", "Etiquetas"],
            ["Otro nombre", R_EXISTING.lower(), "Registrada", "Zapopan", "IMMEX, exportadora"],
        ]
        result = self.run_commit(xlsx(rows), "u.xlsx", on_duplicate=OnDuplicate.UPDATE)
        assert result.committed and result.update == 1
        self.existing.refresh_from_db()
        assert (self.existing.legal_name, self.existing.trade_name) == (
            "Ya Registrada, S.A.",
            "Registrada",
        )
        assert self.existing.municipality == "Guadalajara"
        assert str(self.existing.phone) == "+52 33 1234 5678"
        assert sorted(t.name for t in self.existing.tags.all()) == ["IMMEX", "exportadora"]
        change = ObjectChange.objects.filter(
            organisation=self.org,
            action="update",
            content_type=ContentType.objects.get_for_model(Company),
            object_id=str(self.existing.pk),
        ).get()
        assert (change.prechange_data or {})["trade_name"] == ""
        assert (change.postchange_data or {})["trade_name"] == "Registrada"

    def test_a_company_update_links_an_existing_contact_without_a_company(self) -> None:
        loose = ContactFactory.create(
            organisation=self.org, company=None, email="suelto@empresa.mx", position=""
        )
        rows = [
            ["Razón social", "RFC", "Contacto", "Correo", "Puesto"],
            ["Ya registrada", R_EXISTING, "Pedro Suelto", "suelto@empresa.mx", "Gerente"],
        ]
        result = self.run_commit(csv_bytes(rows), "c.csv", on_duplicate=OnDuplicate.UPDATE)
        assert result.committed
        loose.refresh_from_db()
        assert (loose.company, loose.position) == (self.existing, "Gerente")
        assert loose.first_name == "María"  # names on file are kept

    def test_someone_working_elsewhere_is_left_as_is(self) -> None:
        elsewhere = CompanyFactory.create(organisation=self.org)
        busy = ContactFactory.create(
            organisation=self.org, company=elsewhere, email="ocupado@x.mx", position=""
        )
        rows = [
            ["Razón social", "RFC", "Contacto", "Correo", "Puesto"],
            ["Ya registrada", R_EXISTING, "Pedro Ocupado", "ocupado@x.mx", "Gerente"],
        ]
        result = self.run_commit(csv_bytes(rows), "c.csv", on_duplicate=OnDuplicate.UPDATE)
        assert result.committed and result.contacts_written == 0
        assert "works at another company in the records" in result.warning_rows[0]["warnings"][0]
        busy.refresh_from_db()
        assert (busy.company, busy.position) == (elsewhere, "")

    def test_a_bad_file_is_refused_whole(self) -> None:
        before = self.counts()
        result = self.run_commit(xlsx(messy_rows()), "p.xlsx")
        assert not result.committed and result.bad == 10
        assert "Nothing was imported" in result.error
        assert self.counts() == before

    def test_a_failure_midway_rolls_everything_back(self) -> None:
        before = self.counts()
        original = Company.save
        saved: list[Company] = []

        def failing_save(company: Company, *args: Any, **kwargs: Any) -> None:
            saved.append(company)
            if len(saved) == 3:
                raise IntegrityError("the disk is full")
            original(company, *args, **kwargs)

        with (
            mock.patch.object(Company, "save", failing_save),
            self.assertRaises(IntegrityError),
        ):
            self.run_commit(xlsx(good_rows()), "p.xlsx")
        assert len(saved) == 3  # two companies (and a contact) were written, then undone
        assert self.counts() == before
        assert not Tag.objects.filter(organisation=self.org).exists()

    def test_a_row_made_bad_by_a_change_since_the_preview_stops_the_commit(self) -> None:
        content = xlsx(good_rows())
        sheet = importing.read_sheet(content, "p.xlsx")
        options = self.options(sheet, on_duplicate=OnDuplicate.CREATE)
        assert importing.preview(sheet, organisation=self.org, options=options).bad == 1  # row 7
        rows = [r for r in good_rows() if r[1] != R_EXISTING]
        sheet = importing.read_sheet(xlsx(rows), "p.xlsx")
        options = self.options(sheet, on_duplicate=OnDuplicate.CREATE)
        assert importing.preview(sheet, organisation=self.org, options=options).bad == 0
        CompanyFactory.create(organisation=self.org, rfc=R_PERSON)  # someone adds it meanwhile
        before = self.counts()
        result = importing.commit(sheet, organisation=self.org, options=options, precheck=False)
        assert not result.committed and result.bad == 1
        assert self.counts() == before


class ContactImportTests(ImportTestCase):
    def test_contacts_link_to_companies_by_rfc_or_name(self) -> None:
        duplicate_name = CompanyFactory.create(organisation=self.org, legal_name="Homónima, S.C.")
        CompanyFactory.create(organisation=self.org, legal_name="Homónima, S.C.")
        existing = ContactFactory.create(
            organisation=self.org, company=None, email="ya@existe.mx", position=""
        )
        rows = [
            ["Nombre", "Apellidos", "Correo", "Empresa", "RFC", "Celular", "Idioma", "Cargo"],
            [
                "José",
                "Martínez López",
                "jose@empresa.mx",
                "",
                R_EXISTING,
                "33 9876 5432",
                "Inglés",
                "",
            ],
            ["Rosa", "Núñez", "rosa@empresa.mx", "ya registrada, s.a.", "", "", "", ""],
            ["Sin", "Empresa", "sin@empresa.mx", "No Existe S.A.", "", "", "", ""],
            ["Dos", "Iguales", "dos@empresa.mx", duplicate_name.legal_name, "", "", "", ""],
            ["Ya", "Existe", "YA@EXISTE.MX", "", R_EXISTING, "", "", "Compras"],
            ["Mala", "Lengua", "mala@empresa.mx", "", "", "", "Klingon", ""],
        ]
        result = self.run_preview(
            csv_bytes(rows), "c.csv", kind=Kind.CONTACTS, on_duplicate=OnDuplicate.UPDATE
        )
        reasons = {r["row"]: " ".join(r["errors"]) for r in result.bad_rows}
        assert set(reasons) == {4, 5, 7}
        assert "no company on file is called “No Existe S.A.”" in reasons[4]
        assert "2 companies are called" in reasons[5]
        assert "Language: “Klingon” is not a known value." in reasons[7]
        kept = [r for n, r in enumerate(rows, 1) if n not in reasons]
        result = self.run_commit(
            csv_bytes(kept), "c.csv", kind=Kind.CONTACTS, on_duplicate=OnDuplicate.UPDATE
        )
        assert result.committed and (result.new, result.update) == (2, 1)
        jose = Contact.objects.get(organisation=self.org, email="jose@empresa.mx")
        assert (jose.last_name, jose.second_last_name, jose.company, jose.language) == (
            "Martínez",
            "López",
            self.existing,
            "en",
        )
        assert str(jose.mobile) == "+52 33 9876 5432"
        rosa = Contact.objects.get(organisation=self.org, email="rosa@empresa.mx")
        assert rosa.company == self.existing
        existing.refresh_from_db()
        assert (existing.company, existing.position) == (self.existing, "Compras")

    def test_a_single_name_column_is_split(self) -> None:
        rows = [["Nombre", "Correo"], ["Ing. Ana Sofía Ruiz Díaz", "ana@x.mx"], ["Pedro", ""]]
        result = self.run_preview(csv_bytes(rows), "c.csv", kind=Kind.CONTACTS)
        assert result.sample[0]["First name"] == "Ana Sofía"
        assert result.sample[0]["Second last name"] == "Díaz"
        assert [r["row"] for r in result.bad_rows] == [3]
        assert "Last name: This field is required." in result.bad_rows[0]["errors"]

    def test_consent_without_its_date_is_an_error_like_on_the_form(self) -> None:
        rows = [
            ["Nombre completo", "Aviso de privacidad", "Fecha del aviso de privacidad"],
            ["Ana Ruiz", "Sí", ""],
            ["Beto Díaz", "sí", "15/02/2026"],
            ["Ceci Paz", "quizá", ""],
        ]
        result = self.run_preview(csv_bytes(rows), "c.csv", kind=Kind.CONTACTS)
        reasons = {r["row"]: " ".join(r["errors"]) for r in result.bad_rows}
        assert "Give the date the privacy notice was accepted." in reasons[2]
        assert "write “sí” or “no”, not “quizá”" in reasons[4]
        assert set(reasons) == {2, 4}


def upload_file(content: bytes, name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


class ImportPageTests(ImportTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.client.force_login(self.admin)

    url = "/importa/members/import/"

    def upload(self, content: bytes, name: str, **data: str) -> Any:
        payload = {"kind": "companies", "on_duplicate": "skip", **data}
        return self.client.post(self.url, {**payload, "file": upload_file(content, name)})

    def token(self, response: Any) -> str:
        assert response.status_code == 302, response.content.decode()[:2000]
        return str(response["Location"].split("?t=")[1])

    def test_the_page_and_the_menu(self) -> None:
        response = self.client.get(self.url)
        assert response.status_code == 200
        content = response.content.decode()
        assert 'enctype="multipart/form-data"' in content
        assert "Razón social" in content  # the recognised headers are listed
        assert 'href="/importa/members/import/"' in self.client.get("/importa/").content.decode()

    def test_upload_preview_and_commit(self) -> None:
        token = self.token(self.upload(xlsx(messy_rows()), "padrón.xlsx"))
        preview = self.client.get(f"/importa/members/import/preview/?t={token}")
        content = preview.content.decode()
        assert preview.status_code == 200
        for number in BAD:
            assert f'data-row="{number}"' in content
        assert "Legal name: This field is required." in content
        assert 'value="commit"' not in content  # no import while any row is bad
        before = self.counts()
        response = self.client.post(
            "/importa/members/import/preview/", {"t": token, "action": "commit"}
        )
        assert response.status_code == 302
        assert self.counts() == before
        errors = self.client.get(f"/importa/members/import/errors/?t={token}")
        lines = list(csv.reader(io.StringIO(errors.content.decode("utf-8-sig"))))
        assert lines[0][:3] == ["Row", "Errors", "Razón social"]
        assert [line[0] for line in lines[1:]] == [str(n) for n in BAD]

        token = self.token(self.upload(xlsx(good_rows()), "bueno.xlsx"))
        content = self.client.get(f"/importa/members/import/preview/?t={token}").content.decode()
        assert 'value="commit"' in content and "Import: create 4, update 0" in content
        response = self.client.post(
            "/importa/members/import/preview/", {"t": token, "action": "commit"}, follow=True
        )
        assert "Imported: 4 companies created, 0 updated, 1 skipped; 1 contacts saved." in (
            response.content.decode()
        )
        assert Company.objects.filter(organisation=self.org, rfc=R_NEW).exists()
        change = ObjectChange.objects.filter(organisation=self.org, action="create").latest("pk")
        assert change.user == self.admin
        again = self.client.post(
            "/importa/members/import/preview/", {"t": token, "action": "commit"}, follow=True
        )
        assert "already been imported" in again.content.decode()
        assert not list(Path(self.media).rglob(f"{token}/upload"))  # gone once imported

    def test_the_duplicate_choice_can_change_on_the_preview(self) -> None:
        token = self.token(self.upload(xlsx(good_rows()), "bueno.xlsx"))
        self.client.post(
            "/importa/members/import/preview/",
            {"t": token, "action": "recheck", "on_duplicate": "update"},
        )
        content = self.client.get(f"/importa/members/import/preview/?t={token}").content.decode()
        assert "Import: create 4, update 1" in content

    def test_unrecognised_columns_go_to_the_mapping_step(self) -> None:
        rows = [["Razón social", "RFC", "Giro", "Observaciones internas"]]
        rows.append(["Mapeada, S.A.", valid_rfc(40), "Autopartes", "cliente desde 2010"])
        token = self.token(self.upload(csv_bytes(rows), "m.csv"))
        mapping_url = f"/importa/members/import/mapping/?t={token}"
        page = self.client.get(mapping_url)
        assert page.status_code == 200 and "Not recognised" in page.content.decode()
        bad = self.client.post(
            "/importa/members/import/mapping/",
            {"t": token, "col_0": "legal_name", "col_1": "rfc", "col_2": "notes", "col_3": "notes"},
        )
        assert "2 columns fill “Notes”" in bad.content.decode()
        response = self.client.post(
            "/importa/members/import/mapping/",
            {"t": token, "col_0": "legal_name", "col_1": "rfc", "col_2": "notes", "col_3": ""},
        )
        assert response["Location"] == f"/importa/members/import/preview/?t={token}"
        self.client.post("/importa/members/import/preview/", {"t": token, "action": "commit"})
        assert Company.objects.get(organisation=self.org, rfc=valid_rfc(40)).notes == "Autopartes"

    def test_a_file_that_is_not_a_spreadsheet_is_refused_on_the_form(self) -> None:
        response = self.upload(b"%PDF-1.4\x00\x01\x02\x03binary", "padron.csv")
        assert response.status_code == 200
        assert "is not a CSV or Excel (.xlsx) file" in response.content.decode()
        assert not list(Path(self.media).rglob("*"))
        empty = self.client.post(self.url, {"kind": "companies", "on_duplicate": "skip"})
        assert empty.status_code == 200 and "This field is required." in empty.content.decode()

    def test_a_token_opens_only_its_own_users_upload(self) -> None:
        token = self.token(self.upload(xlsx(good_rows()), "bueno.xlsx"))
        colleague = member_of(self.org, "relations", email="colega@importa.mx")
        self.client.force_login(colleague)
        page = self.client.get(f"/importa/members/import/preview/?t={token}")
        assert page.status_code == 200 and "no longer available" in page.content.decode()
        before = self.counts()
        self.client.post("/importa/members/import/preview/", {"t": token, "action": "commit"})
        for tampered in ("../../etc", "x" * 10, token + "/../x"):
            page = self.client.get(f"/importa/members/import/preview/?t={tampered}")
            assert "no longer available" in page.content.decode()
        assert self.counts() == before

    def test_outsiders_and_readers_cannot_import(self) -> None:
        outsider = member_of(self.other, "admin", email="fuera@otro.mx")
        self.client.force_login(outsider)
        for url in ("", "mapping/", "preview/", "errors/"):
            assert self.client.get(f"{self.url}{url}").status_code == 404
        viewer = member_of(self.org, "viewer", email="lector@importa.mx")
        self.client.force_login(viewer)
        assert self.client.get(self.url).status_code == 403
        assert self.upload(xlsx(good_rows()), "b.xlsx").status_code == 403

    @mock.patch.object(importing, "BACKGROUND_ROWS", 3)
    def test_a_big_file_is_checked_and_imported_by_background_jobs(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            token = self.token(self.upload(xlsx(good_rows()), "grande.xlsx"))
        check = Job.objects.get(organisation=self.org, name="Check the import of grande.xlsx")
        assert (check.status, check.user, check.percent) == ("done", self.admin, 100)
        assert check.result is not None and check.result["new"] == 4
        page = self.client.get(f"/importa/members/import/preview/?t={token}")
        assert "Import: create 4, update 0" in page.content.decode()
        before = self.counts()
        with self.captureOnCommitCallbacks(execute=True):
            response = self.client.post(
                "/importa/members/import/preview/", {"t": token, "action": "commit"}
            )
        assert response.status_code == 302
        job = Job.objects.get(organisation=self.org, name="Import of grande.xlsx")
        assert job.status == "done" and job.message.startswith("Imported: 4 companies created")
        assert self.counts()[0] == before[0] + 4
        partial = self.client.get(
            f"/importa/members/import/preview/?t={token}", HTTP_HX_REQUEST="true"
        )
        content = partial.content.decode()
        assert "<html" not in content and 'id="import-preview"' in content
        assert "Imported: 4 companies created" in content and "hx-trigger" not in content
        assert ObjectChange.objects.filter(organisation=self.org, user=self.admin).count() == 5

    @mock.patch.object(importing, "XLSX_READ_IN_REQUEST", 0)
    def test_a_big_workbook_is_read_whole_by_the_job_not_the_request(self) -> None:
        with mock.patch.object(importing, "_xlsx_rows", wraps=importing._xlsx_rows) as reads:
            response = self.upload(xlsx(good_rows()), "enorme.xlsx")
            assert reads.call_count == 1  # only down to the headers
        token = self.token(response)
        upload = importing.StoredUpload.load(
            organisation_id=self.org.pk, user_id=self.admin.pk, token=token
        )
        assert upload is not None and upload.row_count is None and upload.in_background
        with self.captureOnCommitCallbacks(execute=True):
            self.client.post("/importa/members/import/preview/", {"t": token, "action": "recheck"})
        assert upload.row_count == 5  # counted by the job
        page = self.client.get(f"/importa/members/import/preview/?t={token}").content.decode()
        assert "Import: create 4, update 0" in page
        with self.captureOnCommitCallbacks(execute=True):
            self.client.post("/importa/members/import/preview/", {"t": token, "action": "commit"})
        assert Company.objects.filter(organisation=self.org, rfc=R_PERSON).exists()

    @mock.patch.object(importing, "XLSX_READ_IN_REQUEST", 0)
    @mock.patch.object(importing, "MAX_ROWS", 3)
    def test_a_big_workbook_with_too_many_rows_is_refused_by_the_job(self) -> None:
        with self.captureOnCommitCallbacks(execute=True):
            token = self.token(self.upload(xlsx(good_rows()), "enorme.xlsx"))
        job = Job.objects.get(organisation=self.org, name="Check the import of enorme.xlsx")
        assert job.status == "done" and "more than 3 rows" in job.message
        page = self.client.get(f"/importa/members/import/preview/?t={token}").content.decode()
        assert "more than 3 rows" in page and 'value="commit"' not in page

    @mock.patch.object(importing, "BACKGROUND_ROWS", 3)
    def test_the_page_polls_a_running_job(self) -> None:
        # Without executing the on-commit callbacks the job stays queued.
        token = self.token(self.upload(xlsx(good_rows()), "grande.xlsx"))
        content = self.client.get(f"/importa/members/import/preview/?t={token}").content.decode()
        assert 'hx-trigger="every 2s"' in content
        assert "job-" in content and "0 %" in content


class CommandTests(ImportTestCase):
    def write(self, rows: list[list[str]], suffix: str = ".csv") -> str:
        path = Path(self.media) / f"archivo{suffix}"
        path.write_bytes(xlsx(rows) if suffix == ".xlsx" else csv_bytes(rows))
        return str(path)

    def call(self, *args: str) -> str:
        out = io.StringIO()
        call_command(*args, "--language", "en", stdout=out)
        return out.getvalue()

    def test_without_commit_it_prints_every_bad_row_and_writes_nothing(self) -> None:
        before = self.counts()
        output = self.call("import_companies", "--org", "importa", self.write(messy_rows()))
        assert (
            "15 rows: 4 new, 1 match existing records (0 to update, 1 to skip), 10 with" in output
        )
        for number in BAD:
            assert f"Row {number} (" in output
        assert "Nothing was written (a preview)" in output
        assert "Razón social → Legal name" in output
        assert self.counts() == before

    def test_commit_with_bad_rows_exits_with_1_and_writes_nothing(self) -> None:
        before = self.counts()
        with self.assertRaises(CommandError) as caught:
            self.call(
                "import_companies",
                "--org",
                "importa",
                self.write(messy_rows(), ".xlsx"),
                "--commit",
            )
        assert caught.exception.returncode == 1
        assert "10 rows have errors" in str(caught.exception)
        assert self.counts() == before

    def test_commit_imports_and_attributes_the_changes_to_the_command(self) -> None:
        output = self.call(
            "import_companies",
            "--org",
            "importa",
            self.write(good_rows()),
            "--commit",
            "--on-duplicate",
            "update",
        )
        assert "Imported: 4 companies created, 1 updated, 0 skipped; 1 contacts saved." in output
        change = ObjectChange.objects.filter(organisation=self.org, action="create").latest("pk")
        assert change.user is None and change.user_name == "import_companies"

    def test_contacts_and_column_mapping(self) -> None:
        rows = [
            ["Nombre completo", "Correo", "RFC", "Área"],
            ["Ana Ruiz", "ana@r.mx", R_EXISTING, "x"],
        ]
        output = self.call(
            "import_contacts",
            "--org",
            "importa",
            self.write(rows),
            "--map",
            "Área=notes",
            "--commit",
        )
        assert "Área → Notes" in output
        ana = Contact.objects.get(organisation=self.org, email="ana@r.mx")
        assert (ana.company, ana.notes) == (self.existing, "x")

    def test_bad_arguments(self) -> None:
        with self.assertRaises(CommandError):
            self.call("import_companies", "--org", "no-existe", self.write(good_rows()))
        with self.assertRaises(CommandError) as caught:
            self.call("import_companies", "--org", "importa", str(Path(self.media) / "no.csv"))
        assert "cannot be read" in str(caught.exception)
        Path(self.media, "vacio.csv").write_bytes(b"")
        with self.assertRaises(CommandError) as caught:
            self.call("import_companies", "--org", "importa", str(Path(self.media, "vacio.csv")))
        assert "The file is empty." in str(caught.exception)
