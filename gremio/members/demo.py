"""Members demo data: chambers, tags, plans, services, companies, people and five years of history.

A step of ``python manage.py demo`` (see ``gremio.core.demo``). Everything
comes from the context's seeded ``random.Random`` and ``Faker('es_MX')``, so
the same seed and organisation always give the same data.

Rows are written with ``bulk_create`` in batches: a demo load is nobody's
change, so it writes no change-log rows, and the ``ccij`` scale (100,000
companies, 1,000,000 services delivered and interactions) loads in minutes.
The derived company fields follow the members rules: each membership's
status comes from ``services.membership_status_on``; the company's status
and "member since" from the runs of renewals generated here (the tests check
them against ``services.company_refresh``); the last service date is set by
one UPDATE at the end.

Refresh: the step leaves an organisation that already has companies as it
is. It never deletes — by then invoices, seats or votes may point at the
companies — so running the demo again duplicates nothing.
"""

from __future__ import annotations

import datetime as dt
import random
import time
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import accumulate
from typing import Any

from django.db import connection
from django.db.models import OuterRef, Subquery

from gremio.core.demo import DemoContext, company_rfc, person_rfc, register
from gremio.core.models import Pillar

from . import movements, repeats, services
from .geo import State
from .models import (
    Chamber,
    Company,
    Contact,
    Employment,
    Interaction,
    Membership,
    MembershipPlan,
    MembershipStatus,
    Sector,
    Service,
    ServiceDelivery,
    Tag,
)


@dataclass(frozen=True)
class Size:
    companies: int
    contacts: int  # about; each company gets a number of people that fits its size
    events: int  # services delivered plus interactions


SIZES = {
    "small": Size(300, 600, 3_000),
    "medium": Size(10_000, 20_000, 100_000),
    "ccij": Size(100_000, 200_000, 1_000_000),
}
DELIVERY_SHARE = 0.6
YEARS = 5
COMPANY_BATCH = 2_000
EVENT_BATCH = 5_000

# Reference data ------------------------------------------------------------------

# (acronym, name, SCIAN subsectors whose companies it usually gathers)
CHAMBERS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "CANIETI Occidente",
        "Cámara Nacional de la Industria Electrónica, de Telecomunicaciones y Tecnologías "
        "de la Información, Sede Occidente",
        ("334", "335", "517", "518", "519"),
    ),
    (
        "CAREINTRA Guadalajara",
        "Cámara Regional de la Industria de la Transformación del Estado de Jalisco",
        ("326", "327", "333", "336", "339"),
    ),
    ("CIAJ", "Cámara de la Industria Alimenticia de Jalisco", ("311",)),
    ("CNIT", "Cámara Nacional de la Industria Tequilera", ("312",)),
    ("CICEJ", "Cámara de la Industria del Calzado del Estado de Jalisco", ("316",)),
    ("CIMEG", "Cámara de la Industria Metálica de Guadalajara", ("331", "332")),
    (
        "CANAIVE Jalisco",
        "Cámara Nacional de la Industria del Vestido, Delegación Jalisco",
        ("313", "314", "315"),
    ),
    ("CIMEJ", "Cámara de la Industria Mueblera del Estado de Jalisco", ("321", "337")),
    ("CIQPJ", "Cámara de la Industria Química y del Plástico de Jalisco", ("324", "325")),
    ("CIAGJ", "Cámara de la Industria de Artes Gráficas de Jalisco", ("322", "323")),
    ("CIJ Joyera", "Cámara de la Industria Joyera de Jalisco", ()),
    (
        "CMIC Jalisco",
        "Cámara Mexicana de la Industria de la Construcción, Delegación Jalisco",
        ("236", "237", "238"),
    ),
)

TAGS: tuple[tuple[str, str], ...] = (
    ("Exportadora", "#1f5fa8"),
    ("IMMEX", "#6b3fa0"),
    ("Proveedora automotriz", "#a8551f"),
    ("Cadena electrónica", "#2f6f4f"),
    ("Empresa familiar", "#8a6d1f"),
    ("ISO 9001", "#3d7ea6"),
    ("Industria 4.0", "#5a5a9e"),
    ("Mujeres empresarias", "#b0457a"),
    ("Nearshoring", "#1f7f8a"),
    ("Distintivo ESR", "#4f8a3d"),
    ("Proveedora de gobierno", "#7a4f2f"),
    ("Consejo directivo", "#9e2f2f"),
)

# (name, annual fee, billing frequency, period type, grace days, description)
PLANS: tuple[tuple[str, str, str, str, int, str], ...] = (
    ("Micro empresa", "6500.00", "annual", "rolling", 30, "Hasta 10 personas empleadas."),
    ("Pequeña empresa", "14800.00", "semiannual", "rolling", 30, "De 11 a 50 personas."),
    ("Mediana empresa", "32500.00", "quarterly", "rolling", 45, "De 51 a 250 personas."),
    ("Gran empresa", "68000.00", "quarterly", "rolling", 60, "Más de 250 personas."),
    (
        "Afiliación vía cámara",
        "3900.00",
        "annual",
        "calendar",
        30,
        "Empresas afiliadas a una cámara socia del Consejo; año calendario.",
    ),
)
CHAMBER_PLAN = 4

# (name, category, pillar position, popularity, hours choices, channels, outcomes)
SERVICES: tuple[
    tuple[str, str, int, int, tuple[str, ...], tuple[str, ...], tuple[str, ...]], ...
] = (
    (
        "Asesoría jurídica laboral",
        "legal",
        3,
        12,
        ("1.00", "1.50", "2.00", "3.00"),
        ("in_person", "phone", "video"),
        (
            "Revisión del contrato colectivo y recomendaciones.",
            "Orientación sobre la reforma en materia de subcontratación.",
            "Acompañamiento en audiencia de conciliación.",
        ),
    ),
    (
        "Asesoría en comercio exterior",
        "legal",
        3,
        8,
        ("1.00", "2.00", "4.00"),
        ("in_person", "video", "email"),
        (
            "Clasificación arancelaria de tres fracciones.",
            "Revisión de requisitos del programa IMMEX.",
            "Orientación sobre reglas de origen del T-MEC.",
        ),
    ),
    (
        "Gestoría ambiental ante SEMADET",
        "legal",
        0,
        4,
        ("2.00", "4.00", "6.00"),
        ("in_person", "email"),
        (
            "Integración de la cédula de operación anual.",
            "Trámite de licencia ambiental única.",
        ),
    ),
    (
        "Capacitación en manufactura esbelta",
        "training",
        3,
        7,
        ("8.00", "16.00", "24.00"),
        ("in_person", "video"),
        ("Taller de 5S para supervisores.", "Curso de SMED y cambio rápido de herramental."),
    ),
    (
        "Curso de seguridad e higiene (NOM-035)",
        "training",
        0,
        7,
        ("4.00", "8.00"),
        ("in_person", "video"),
        ("Curso NOM-035 para mandos medios.", "Identificación de factores de riesgo psicosocial."),
    ),
    (
        "Diplomado en cadena de suministro",
        "training",
        1,
        3,
        ("40.00", "80.00"),
        ("in_person", "video"),
        ("Módulo de planeación de la demanda.", "Módulo de desarrollo de proveedores."),
    ),
    (
        "Certificación de proveeduría local",
        "certification",
        1,
        3,
        ("6.00", "12.00"),
        ("in_person",),
        ("Auditoría de capacidades para tractora.", "Dictamen de contenido nacional."),
    ),
    (
        "Preparación para ISO 9001",
        "certification",
        3,
        2,
        ("16.00", "24.00", "40.00"),
        ("in_person", "video"),
        ("Diagnóstico de brechas frente a la norma.", "Auditoría interna previa a certificación."),
    ),
    (
        "Ruedas de negocios con empresas tractoras",
        "matching",
        1,
        6,
        ("3.00", "4.00"),
        ("event", "in_person"),
        ("Cinco citas de negocio con compradores.", "Cita con el área de compras de una OEM."),
    ),
    (
        "Vinculación con compras de gobierno",
        "matching",
        1,
        4,
        ("1.00", "2.00"),
        ("in_person", "email", "phone"),
        ("Registro en el padrón de proveedores del Estado.", "Aviso de licitación pertinente."),
    ),
    (
        "Misión comercial internacional",
        "matching",
        3,
        1,
        ("24.00", "40.00"),
        ("event",),
        ("Participación en misión a Texas.", "Agenda de reuniones en feria internacional."),
    ),
    (
        "Estudio de costos y competitividad",
        "information",
        3,
        3,
        ("2.00", "4.00"),
        ("email", "video"),
        ("Comparativo de costos de energía.", "Tabulador salarial regional."),
    ),
    (
        "Boletín de indicadores económicos",
        "information",
        2,
        14,
        ("0.25", "0.50"),
        ("email",),
        ("Envío del boletín mensual.", "Consulta atendida sobre indicadores de empleo."),
    ),
    (
        "Gestión ante dependencias de gobierno",
        "representation",
        0,
        6,
        ("2.00", "3.00", "6.00"),
        ("in_person", "phone"),
        (
            "Gestión de permiso de uso de suelo ante el municipio.",
            "Reunión con la Secretaría de Desarrollo Económico.",
        ),
    ),
    (
        "Foro anual de la industria jalisciense",
        "events",
        2,
        5,
        ("4.00", "8.00"),
        ("event",),
        ("Asistencia al foro con dos personas.", "Participación como panelista."),
    ),
    (
        "Difusión en medios del Consejo",
        "other",
        2,
        3,
        ("1.00", "2.00"),
        ("email", "phone"),
        ("Nota en el boletín de prensa.", "Entrevista coordinada con medio local."),
    ),
    (
        "Constancias y cartas de recomendación",
        "other",
        0,
        8,
        ("0.50", "1.00"),
        ("email", "in_person"),
        ("Constancia de afiliación emitida.", "Carta de recomendación para licitación."),
    ),
)

# Sector mix: manufacturing (31-33) dominates a council of industrial chambers.
MANUFACTURING_WEIGHTS = {
    "311": 14, "312": 5, "313": 2, "314": 2, "315": 5, "316": 6, "321": 2, "322": 3,
    "323": 4, "324": 1, "325": 6, "326": 8, "327": 3, "331": 2, "332": 9, "333": 4,
    "334": 9, "335": 4, "336": 8, "337": 5, "339": 4,
}  # fmt: skip
MANUFACTURING_SHARE = 0.72
SUPPLIER_SECTORS = ("541", "561", "484", "518", "493", "532")

# Words that start a legal name, by subsector (others fall back to the generic list).
NAME_WORDS: dict[str, tuple[str, ...]] = {
    "311": ("Alimentos", "Lácteos", "Botanas", "Panificadora", "Dulces", "Cárnicos", "Conservas"),
    "312": ("Tequilera", "Destilería", "Embotelladora", "Bebidas", "Cervecería"),
    "313": ("Hilados", "Tejidos", "Acabados Textiles"),
    "314": ("Textiles", "Blancos", "Lonas"),
    "315": ("Confecciones", "Moda", "Uniformes", "Maquiladora Textil"),
    "316": ("Calzado", "Curtidos", "Tenería", "Marroquinería"),
    "321": ("Maderas", "Aserradero", "Tarimas"),
    "322": ("Empaques", "Cartonera", "Papelera"),
    "323": ("Impresos", "Litográfica", "Artes Gráficas", "Etiquetas"),
    "324": ("Lubricantes", "Asfaltos"),
    "325": ("Química", "Pinturas", "Laboratorios", "Cosméticos", "Adhesivos"),
    "326": ("Plásticos", "Inyección de Plásticos", "Hules", "Polímeros", "Termoformados"),
    "327": ("Vidrios", "Cerámica", "Concretos", "Mármoles", "Prefabricados"),
    "331": ("Fundición", "Aceros", "Metales", "Aluminios"),
    "332": ("Maquinados", "Troquelados", "Estructuras Metálicas", "Herrajes", "Tornillería"),
    "333": ("Maquinaria", "Equipos Industriales", "Automatización"),
    "334": ("Electrónica", "Sistemas Electrónicos", "Manufactura Electrónica", "Semiconductores"),
    "335": ("Equipos Eléctricos", "Transformadores", "Iluminación", "Tableros"),
    "336": ("Autopartes", "Carrocerías", "Remolques", "Arneses"),
    "337": ("Muebles", "Colchones", "Mobiliario", "Diseño en Madera"),
    "339": ("Joyería", "Dispositivos Médicos", "Artículos Deportivos", "Juguetes", "Platería"),
}
GENERIC_WORDS = (
    "Comercializadora",
    "Distribuidora",
    "Servicios Integrales",
    "Grupo",
    "Soluciones",
    "Corporativo",
    "Logística",
    "Consultores",
    "Ingeniería",
    "Desarrollos",
)
PLACES = (
    "de Occidente",
    "del Bajío",
    "Tapatía",
    "de Jalisco",
    "del Pacífico",
    "de los Altos",
    "del Centro",
    "Mexicana",
    "Industrial",
    "Internacional",
)
LEGAL_FORMS = (
    ("S.A. de C.V.", 60),
    ("S. de R.L. de C.V.", 24),
    ("S.A.P.I. de C.V.", 12),
    ("S.C.", 4),
)
RFC_SKIP = {"DE", "DEL", "LA", "LAS", "LOS", "EL", "Y", "E", "EN", "S", "C", "V", "A", "R", "L"}

# (name, e-mail domain)
PUBLIC_BODIES = (
    ("Secretaría de Desarrollo Económico del Estado de Jalisco", "jalisco.gob.mx"),
    ("Secretaría de Innovación, Ciencia y Tecnología de Jalisco", "jalisco.gob.mx"),
    ("Secretaría de Medio Ambiente y Desarrollo Territorial", "jalisco.gob.mx"),
    ("Consejo Estatal de Promoción Económica", "jalisco.gob.mx"),
    ("Instituto Jalisciense de Tecnologías de la Información", "jalisco.gob.mx"),
    ("Ayuntamiento de Guadalajara", "guadalajara.gob.mx"),
    ("Ayuntamiento de Zapopan", "zapopan.gob.mx"),
    ("Ayuntamiento de San Pedro Tlaquepaque", "tlaquepaque.gob.mx"),
    ("Ayuntamiento de El Salto", "elsalto.gob.mx"),
    ("Ayuntamiento de Tlajomulco de Zúñiga", "tlajomulco.gob.mx"),
    ("Universidad de Guadalajara", "udg.mx"),
    ("Instituto Mexicano del Seguro Social, Delegación Jalisco", "imss.gob.mx"),
    ("Servicio de Administración Tributaria, Occidente", "sat.gob.mx"),
    ("Comisión Estatal del Agua de Jalisco", "jalisco.gob.mx"),
    ("Fideicomiso para el Desarrollo Industrial de Jalisco", "jalisco.gob.mx"),
)
PUBLIC_POSITIONS = (
    "Director de Desarrollo Económico",
    "Coordinadora de Vinculación Empresarial",
    "Jefe de Departamento de Proveeduría",
)

# (municipality, weight, phone area code, first postal code, postal codes in range)
JALISCO = (
    ("Guadalajara", 30, "33", 44100, 890),
    ("Zapopan", 25, "33", 45010, 230),
    ("San Pedro Tlaquepaque", 10, "33", 45500, 140),
    ("Tlajomulco de Zúñiga", 8, "33", 45640, 40),
    ("El Salto", 7, "33", 45680, 10),
    ("Tonalá", 5, "33", 45400, 30),
    ("Lagos de Moreno", 3, "474", 47400, 90),
    ("Tepatitlán de Morelos", 3, "378", 47600, 90),
    ("Puerto Vallarta", 2, "322", 48280, 110),
    ("Ocotlán", 2, "392", 47800, 90),
    ("Zapotlán el Grande", 2, "341", 49000, 90),
    ("Arandas", 1, "348", 47180, 9),
    ("Tala", 1, "384", 45300, 10),
    ("Ixtlahuacán de los Membrillos", 1, "376", 45850, 9),
    ("Atotonilco el Alto", 1, "391", 47750, 9),
    ("La Barca", 1, "393", 47910, 9),
    ("Ameca", 1, "375", 46600, 9),
    ("Tequila", 1, "374", 46400, 9),
    ("San Juan de los Lagos", 1, "395", 47000, 9),
)
OTHER_STATES = (
    (State.NL, "Monterrey", 4, "81", 64000, 999),
    (State.NL, "Apodaca", 1, "81", 66600, 99),
    (State.GTO, "León", 3, "477", 37000, 999),
    (State.GTO, "Celaya", 1, "461", 38000, 99),
    (State.QRO, "Querétaro", 2, "442", 76000, 249),
    (State.CDMX, "Miguel Hidalgo", 2, "55", 11000, 599),
    (State.MEX, "Naucalpan de Juárez", 1, "55", 53000, 999),
    (State.AGS, "Aguascalientes", 2, "449", 20000, 999),
    (State.MICH, "Morelia", 1, "443", 58000, 999),
    (State.COL, "Manzanillo", 1, "314", 28200, 99),
    (State.NAY, "Tepic", 1, "311", 63000, 199),
    (State.SLP, "San Luis Potosí", 1, "444", 78000, 399),
    (State.COAH, "Saltillo", 1, "844", 25000, 299),
)
JALISCO_SHARE = 0.86
STREETS = (
    "Av. López Mateos",
    "Av. Vallarta",
    "Av. Lázaro Cárdenas",
    "Calz. Independencia",
    "Av. Periférico Sur",
    "Av. Mariano Otero",
    "Carretera a Chapala",
    "Carretera El Salto",
    "Av. Patria",
    "Av. Niños Héroes",
    "Calle Industria",
    "Av. Acueducto",
    "Av. Guadalupe",
    "Calle Hidalgo",
    "Calle Morelos",
)
NEIGHBOURHOODS = (
    "Col. Centro",
    "Zona Industrial",
    "Parque Industrial El Salto",
    "Parque Industrial Guadalajara",
    "Col. Americana",
    "Col. Providencia",
    "Col. Lomas del Seminario",
    "Parque Industrial Belenes",
    "Col. La Nogalera",
    "Col. El Vigía",
)

# (band, share, employees low, high, contacts choices, plan position)
SIZE_BANDS = (
    ("micro", 45, 1, 10, (1, 1, 1, 2), 0),
    ("small", 30, 11, 50, (1, 2, 2, 3), 1),
    ("medium", 17, 51, 250, (2, 3, 3, 4), 2),
    ("large", 8, 251, 4_500, (3, 4, 5, 6), 3),
)
POSITIONS = (
    "Gerente de Recursos Humanos",
    "Gerente de Compras",
    "Director de Operaciones",
    "Contralor",
    "Gerente de Comercio Exterior",
    "Jefe de Seguridad e Higiene",
    "Asistente de Dirección",
    "Gerente de Planta",
    "Director Comercial",
    "Gerente de Calidad",
    "Coordinadora de Vinculación",
)
INTERACTION_KINDS = (("call", 35), ("email", 30), ("meeting", 15), ("visit", 10), ("event", 10))
SUMMARIES = {
    "call": (
        "Llamada para dar seguimiento a la renovación de la afiliación.",
        "Llamada sobre la invitación al comité de compras de gobierno.",
        "Consulta telefónica sobre trámites ante el IMSS.",
        "Seguimiento a la solicitud de vinculación con una empresa tractora.",
    ),
    "email": (
        "Envío de la propuesta de servicios para el año.",
        "Respuesta a la consulta sobre la agenda de capacitación.",
        "Envío de la constancia de afiliación solicitada.",
        "Invitación a la encuesta de clima de negocios.",
    ),
    "meeting": (
        "Reunión con la dirección general para revisar necesidades de capacitación.",
        "Reunión para presentar los beneficios de la afiliación.",
        "Revisión conjunta de la problemática de suministro de energía.",
    ),
    "visit": (
        "Visita a planta para conocer la nueva línea de producción.",
        "Visita de cortesía con la presidencia del Consejo.",
        "Recorrido por las instalaciones con autoridades municipales.",
    ),
    "event": (
        "Asistencia al desayuno de socios del Consejo.",
        "Participación en la reunión sectorial mensual.",
        "Encuentro en la feria de proveeduría local.",
    ),
}
STAFF_ROLES = (("relations", 50), ("staff", 35), ("director", 10), ("admin", 5))


# Helpers -------------------------------------------------------------------------


def ascii_fold(value: str) -> str:
    return unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")


def weighted(rng: random.Random, pairs: Any) -> Any:
    """Pick the first item of one of ``(item, weight)`` pairs."""
    items = list(pairs)
    return rng.choices([p[0] for p in items], weights=[p[1] for p in items])[0]


def phone_number(rng: random.Random, area: str) -> str:
    """A valid Mexican ten-digit number in E.164, e.g. +52 33 1234 5678."""
    rest = 10 - len(area)
    return f"+52{area}{rng.randint(1, 9)}{rng.randrange(10 ** (rest - 1)):0{rest - 1}d}"


def weekday(day: dt.date) -> dt.date:
    """Move Saturday to Friday and Sunday to Monday: offices work on weekdays."""
    shift = {5: -1, 6: 1}.get(day.weekday(), 0)
    return day + dt.timedelta(days=shift)


def rfc_initials(name: str) -> str:
    words = [w for w in ascii_fold(name).upper().replace(",", " ").split() if w not in RFC_SKIP]
    words = [w for w in words if w.isalpha()] or ["XXX"]
    if len(words) >= 3:
        return words[0][0] + words[1][0] + words[2][0]
    if len(words) == 2:
        return words[0][0] + words[1][:2]
    return words[0][:3]


def years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


@dataclass
class Draft:
    """A company not yet saved, with what its people, tags and services will need."""

    company: Company
    memberships: list[Membership]
    delivery_weight: float
    interaction_weight: float
    area: str  # phone area code
    domain: str | None = None
    tags: tuple[int, ...] = ()
    people: int = 0


@dataclass
class Served:
    """What the event generator needs to know about one company."""

    pk: int
    delivery_weight: float
    interaction_weight: float
    since: int  # ordinal of the first day it may be served
    until: int  # ordinal of the last day it may be served
    contacts: list[int] = field(default_factory=list)


# The step ------------------------------------------------------------------------


@register(order=100, name="members")
def build_members(ctx: DemoContext) -> None:
    """Chambers, tags, plans, services, companies, contacts and five years of history."""
    organisation = ctx.organisation
    if Company.objects.filter(organisation=organisation).exists():
        ctx.log("  members: the organisation already has companies; left as they are")
        return
    size = SIZES[ctx.scale]
    started = time.perf_counter()
    builder = _Builder(ctx)
    builder.reference_data()
    served = builder.companies(size)
    ctx.log(
        f"  members: {size.companies:,} companies, {builder.contact_count:,} contacts, "
        f"{builder.membership_count:,} memberships ({time.perf_counter() - started:.0f} s)"
    )
    deliveries = round(size.events * DELIVERY_SHARE)
    builder.deliveries(served, deliveries)
    builder.interactions(served, size.events - deliveries)
    # Statistics first: PostgreSQL plans the statement below from them, and
    # without them it would read every delivery once per company.
    analyze()
    # The last service follows the deliveries: one statement, not one save per company.
    last = ServiceDelivery.objects.filter(company=OuterRef("pk")).order_by("-date").values("date")
    Company.objects.filter(organisation=organisation).update(last_service_on=Subquery(last[:1]))
    # And each delivery's previous one, which the reports count companies by.
    repeats.rebuild(ServiceDelivery, organisation_id=organisation.pk)
    analyze(Company, ServiceDelivery)
    ctx.log(
        f"  members: {deliveries:,} services delivered, {size.events - deliveries:,} "
        f"interactions ({time.perf_counter() - started:.0f} s)"
    )


def analyze(*models: Any) -> None:
    """Planner statistics for the rows just loaded (all members tables by default).

    As after any bulk load: SQLite never gathers them by itself and
    PostgreSQL's autovacuum only later; without them SQLite may read a list
    in name order through a million rows to find a rare company's six.
    """
    if not models:
        models = (Company, Contact, Employment, Membership, ServiceDelivery, Interaction)
        models += (Company.tags.through, ServiceDelivery.contacts.through)
        models += (Interaction.contacts.through,)
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


class _Builder:
    def __init__(self, ctx: DemoContext) -> None:
        self.ctx = ctx
        self.org = ctx.organisation
        self.rng = ctx.rng
        self.fake = ctx.fake
        self.today = services.today()
        self.window_start = years_before(self.today, YEARS)
        self.rfcs: set[str] = set()
        self.names: set[str] = set()
        self.emails: set[str] = set()
        self.contact_count = 0
        self.membership_count = 0
        staff = [(ctx.users[r], w) for r, w in STAFF_ROLES if ctx.users.get(r) is not None]
        if not staff:
            staff = [(user, 1) for user in ctx.users.values()]
        self.staff_ids = [u.pk for u, _w in staff]
        self.staff_cum = list(accumulate(w for _u, w in staff))

    # Reference data ------------------------------------------------------------

    def reference_data(self) -> None:
        org = self.org
        self.chambers = Chamber.objects.bulk_create(
            [Chamber(organisation=org, name=name, acronym=acr) for acr, name, _s in CHAMBERS]
        )
        self.chamber_for: dict[str, Chamber] = {}
        for chamber, (_a, _n, sectors) in zip(self.chambers, CHAMBERS, strict=True):
            for code in sectors:
                self.chamber_for[code] = chamber
        self.joyera = next(c for c in self.chambers if c.acronym == "CIJ Joyera")
        self.tags = Tag.objects.bulk_create(
            [Tag(organisation=org, name=name, colour=colour) for name, colour in TAGS]
        )
        self.plans = MembershipPlan.objects.bulk_create(
            [
                MembershipPlan(
                    organisation=org,
                    name=name,
                    fee=Decimal(fee),
                    frequency=frequency,
                    period_type=period,
                    grace_days=grace,
                    description=description,
                )
                for name, fee, frequency, period, grace, description in PLANS
            ]
        )
        pillars = list(Pillar.objects.filter(organisation=org).order_by("order", "pk"))
        self.services = Service.objects.bulk_create(
            [
                Service(
                    organisation=org,
                    name=name,
                    category=category,
                    pillar=pillars[position % len(pillars)] if pillars else None,
                    description=outcomes[0],
                )
                for name, category, position, _p, _h, _c, outcomes in SERVICES
            ]
        )
        self.service_cum = list(accumulate(s[3] for s in SERVICES))
        self.service_hours = [[Decimal(h) for h in s[4]] for s in SERVICES]
        subsectors = {s.code: s for s in Sector.objects.filter(parent__isnull=False)}
        manufacturing = [(subsectors[c], w) for c, w in MANUFACTURING_WEIGHTS.items()]
        others = [
            (s, 1)
            for code, s in sorted(subsectors.items())
            if not code.startswith(("31", "32", "33", "93"))
        ]
        other_weight = (
            sum(w for _s, w in manufacturing) * (1 - MANUFACTURING_SHARE) / MANUFACTURING_SHARE
        )
        self.sector_pool = manufacturing + [(s, other_weight / len(others)) for s, _w in others]
        self.sector_cum = list(accumulate(w for _s, w in self.sector_pool))
        self.supplier_sectors = [subsectors[c] for c in SUPPLIER_SECTORS if c in subsectors]
        self.public_sector = subsectors.get("931")
        jalisco = [(("14", m, a, pc, n), w * JALISCO_SHARE / 100) for m, w, a, pc, n in JALISCO]
        elsewhere = [
            ((st.value, m, a, pc, n), w * (1 - JALISCO_SHARE) / 20)
            for st, m, w, a, pc, n in OTHER_STATES
        ]
        self.place_pool = [p for p, _w in jalisco + elsewhere]
        self.place_cum = list(accumulate(w for _p, w in jalisco + elsewhere))
        self.ctx.log(
            f"  members: {len(self.chambers)} chambers, {len(self.tags)} tags, "
            f"{len(self.plans)} plans, {len(self.services)} services"
        )

    # Companies -----------------------------------------------------------------

    def companies(self, size: Size) -> list[Served]:
        served: list[Served] = []
        public = len(PUBLIC_BODIES) if size.companies >= 100 else 0
        batch: list[Draft] = []
        for i in range(size.companies):
            batch.append(self.public_body(*PUBLIC_BODIES[i]) if i < public else self.company())
            if len(batch) == COMPANY_BATCH or i == size.companies - 1:
                served.extend(self.save_companies(batch))
                batch = []
        # People who belong to no company: consultants, officials, academics.
        loose = max(0, size.contacts - self.contact_count)
        contacts = [self.contact(None, "33", first=False) for _ in range(loose)]
        Contact.objects.bulk_create(contacts, batch_size=EVENT_BATCH)
        self.contact_count += len(contacts)
        return served

    def unique_rfc(self, make: Any) -> str:
        while True:
            value = make()
            if value not in self.rfcs:
                self.rfcs.add(value)
                return str(value)

    def place(self) -> tuple[str, str, str, str, str]:
        rng = self.rng
        state, municipality, area, first, span = self.place_pool[
            bisect_right(self.place_cum, rng.random() * self.place_cum[-1])
        ]
        address = f"{rng.choice(STREETS)} {rng.randint(10, 4999)}, {rng.choice(NEIGHBOURHOODS)}"
        return state, municipality, area, f"{first + rng.randint(0, span):05d}", address

    def founded(self) -> dt.date:
        return dt.date.fromordinal(
            self.rng.randint(dt.date(1958, 1, 1).toordinal(), dt.date(2022, 12, 31).toordinal())
        )

    def public_body(self, name: str, domain: str) -> Draft:
        rng = self.rng
        municipality = name.removeprefix("Ayuntamiento de ") if "Ayuntamiento" in name else ""
        first, span = next(
            ((pc, n) for m, _w, _a, pc, n in JALISCO if m == municipality), (44100, 890)
        )
        company = Company(
            organisation=self.org,
            legal_name=name,
            rfc=self.unique_rfc(lambda: company_rfc(rng, rfc_initials(name), self.founded())),
            sector=self.public_sector,
            size_band=Company.SizeBand.LARGE,
            employees=rng.randint(300, 6000),
            state=State.JAL,
            municipality=municipality or "Guadalajara",
            address=f"{rng.choice(STREETS)} {rng.randint(10, 2999)}, Col. Centro",
            postal_code=f"{first + rng.randint(0, span):05d}",
            phone=phone_number(rng, "33"),
            is_public_body=True,
        )
        return Draft(company, [], 0.0, 0.6, "33", domain=domain, people=2)

    def company(self) -> Draft:
        rng, fake = self.rng, self.fake
        band, _share, low, high, contact_choices, plan_position = weighted(
            rng, [(b, b[1]) for b in SIZE_BANDS]
        )
        if band == "large":
            employees = min(high, int(low + rng.paretovariate(1.3) * 120))
        else:
            employees = rng.randint(low, high)
        role = rng.random()
        is_supplier = role >= 0.95
        is_member_history = role < 0.74
        sector = (
            rng.choice(self.supplier_sectors)
            if is_supplier
            else self.sector_pool[
                bisect_right(self.sector_cum, rng.random() * self.sector_cum[-1])
            ][0]
        )
        natural = band == "micro" and rng.random() < 0.12
        if natural:
            first, last, second = fake.first_name(), fake.last_name(), fake.last_name()
            legal_name = f"{first} {last} {second}"
            born = dt.date.fromordinal(
                rng.randint(dt.date(1950, 1, 1).toordinal(), dt.date(1998, 12, 31).toordinal())
            )
            rfc = self.unique_rfc(lambda: person_rfc(rng, last, second, first, born))
            trade_name = f"{NAME_WORDS.get(sector.code, GENERIC_WORDS)[0]} {last}"
        else:
            legal_name, trade_name = self.company_name(sector.code, band)
            founded = self.founded()
            rfc = self.unique_rfc(lambda: company_rfc(rng, rfc_initials(legal_name), founded))
        state, municipality, area, postal_code, address = self.place()
        domain = "".join(c for c in ascii_fold(trade_name).lower() if c.isalnum())[:40] + ".com.mx"
        chamber = self.chamber_for.get(sector.code)
        if sector.code == "339" and rng.random() < 0.4:
            chamber = self.joyera
        if chamber is None and sector.code.startswith("3") and rng.random() < 0.3:
            chamber = self.chambers[1]  # CAREINTRA gathers the rest of manufacturing
        if chamber is not None and rng.random() < 0.35:
            chamber = None  # not every company in the trade belongs to its chamber
        company = Company(
            organisation=self.org,
            legal_name=legal_name,
            trade_name=trade_name,
            rfc=rfc,
            entity_type=Company.EntityType.NATURAL if natural else Company.EntityType.LEGAL,
            sector=sector,
            size_band=band,
            employees=employees,
            state=state,
            municipality=municipality,
            address=address,
            postal_code=postal_code,
            website=f"https://www.{domain}" if rng.random() < 0.65 else "",
            phone=phone_number(rng, area) if rng.random() < 0.9 else "",
            chamber=chamber,
            is_supplier=is_supplier,
            is_prospect=not is_member_history and not is_supplier,
        )
        memberships: list[Membership] = []
        if is_member_history:
            plan = self.plans[CHAMBER_PLAN if chamber and rng.random() < 0.3 else plan_position]
            memberships = self.history(company, plan)
        factor = {"micro": 1.0, "small": 1.3, "medium": 1.8, "large": 2.5}[band]
        weight = 0.0 if rng.random() < 0.3 else min(rng.paretovariate(1.5), 60.0) * factor
        if not is_member_history:
            weight = 0.0 if is_supplier or rng.random() < 0.6 else weight * 0.3
        return Draft(
            company,
            memberships,
            delivery_weight=weight,
            interaction_weight=weight * 0.7 + (0.2 if is_supplier else 0.5),
            area=area,
            domain=domain,
            tags=tuple(rng.sample(range(len(self.tags)), k=self.tag_count(band))),
            people=rng.choice(contact_choices),
        )

    def tag_count(self, band: str) -> int:
        roll = self.rng.random()
        if band in ("medium", "large"):
            return 0 if roll < 0.35 else 1 if roll < 0.7 else 2 if roll < 0.9 else 3
        return 0 if roll < 0.7 else 1 if roll < 0.95 else 2

    def company_name(self, code: str, band: str) -> tuple[str, str]:
        rng, fake = self.rng, self.fake
        words = NAME_WORDS.get(code, GENERIC_WORDS)
        for _attempt in range(50):
            word = rng.choice(words)
            surname = fake.last_name()
            pattern = rng.random()
            if pattern < 0.35:
                trade = f"{word} {surname}"
            elif pattern < 0.55:
                trade = f"{word} {rng.choice(PLACES)}"
                trade = f"{trade} {surname}" if rng.random() < 0.5 else trade
            elif pattern < 0.75:
                trade = f"{word} {surname} {rng.choice(PLACES)}"
            elif pattern < 0.9:
                trade = f"{word} {surname} y {fake.last_name()}"
            else:
                trade = f"Grupo {surname} {word}"
            form = weighted(rng, LEGAL_FORMS)
            legal = f"{trade}, {form}"
            if legal not in self.names:
                self.names.add(legal)
                return legal, trade
        legal = f"{trade} {len(self.names)}, {form}"  # fifty misses: practically never
        self.names.add(legal)
        return legal, trade

    def history(self, company: Company, plan: MembershipPlan) -> list[Membership]:
        """Five years of periods: renewals, late renewals, lapses, rejoining, resignations."""
        rng, today = self.rng, self.today
        days = (today - self.window_start).days
        if rng.random() < 0.55:  # a member from before the window
            start = self.window_start + dt.timedelta(days=rng.randint(0, 364))
        else:
            start = self.window_start + dt.timedelta(days=rng.randint(365, days - 10))
        fee = None
        if rng.random() < 0.05:  # a negotiated discount
            fee = (plan.fee * Decimal(rng.choice(("0.80", "0.85", "0.90")))).quantize(
                Decimal("0.01")
            )
        memberships: list[Membership] = []
        run_starts: list[dt.date] = []
        run_start = start
        while start <= today:
            end = services.period_end(plan=plan, start=start)
            membership = Membership(
                organisation=self.org, company=company, plan=plan, start=start, end=end, fee=fee
            )
            memberships.append(membership)
            run_starts.append(run_start)
            if end >= today:
                if end <= today + dt.timedelta(days=45) and rng.random() < 0.3:
                    # Renewed early: the next period waits, pending.
                    memberships.append(
                        Membership(
                            organisation=self.org,
                            company=company,
                            plan=plan,
                            start=end + dt.timedelta(days=1),
                            end=services.period_end(plan=plan, start=end + dt.timedelta(days=1)),
                            fee=fee,
                        )
                    )
                    run_starts.append(run_start)
                break
            roll = rng.random()
            if (today - end).days <= plan.grace_days:
                roll = 0.03 + roll * 1.4  # recently ended: many have not paid yet (in grace)
            if roll < 0.03:
                length = (end - start).days
                membership.resigned_on = start + dt.timedelta(
                    days=rng.randint(min(30, length), max(min(30, length), length - 30))
                )
                membership.notes = rng.choice(
                    (
                        "Renuncia por cierre de operaciones en Jalisco.",
                        "Renuncia: la empresa se afilia a su cámara nacional.",
                        "Renuncia por reducción de gastos.",
                    )
                )
                break
            if roll < 0.88:
                late = rng.random() < 0.15
                start = end + dt.timedelta(days=rng.randint(2, plan.grace_days) if late else 1)
                if rng.random() < 0.04:  # grew into the next plan
                    position = self.plans.index(plan)
                    if position < 3:
                        plan = self.plans[position + 1]
                        fee = None
                continue
            if rng.random() < 0.35:  # lapsed, came back later
                start = end + dt.timedelta(days=plan.grace_days + rng.randint(120, 700))
                run_start = start
                continue
            break
        for membership in memberships:
            renewed = services.is_renewed(membership, today, memberships)
            membership.status = services.membership_status_on(membership, today, renewed=renewed)
        movements.changed_rows(memberships, {m.plan_id: m.plan.grace_days for m in memberships})
        last = memberships[-1]
        if (
            last.status in (MembershipStatus.GRACE, MembershipStatus.LAPSED)
            and last.end >= today - dt.timedelta(days=180)
            and rng.random() < 0.25
        ):
            last.status_override = MembershipStatus.ACTIVE
            last.override_until = today + dt.timedelta(days=rng.randint(15, 90))
            last.notes = "Convenio de pago: se mantiene activa mientras liquida la cuota."
            last.status = services.membership_status_on(
                last, today, renewed=services.is_renewed(last, today, memberships)
            )
        # The company's state: its current membership is an active one, else one
        # in grace, else a pending one, else the latest; "member since" is the
        # start of the unbroken run of renewals that reaches it.
        rank: dict[str, int] = {
            MembershipStatus.ACTIVE: 0,
            MembershipStatus.GRACE: 1,
            MembershipStatus.PENDING: 2,
        }
        position = min(
            range(len(memberships)),
            key=lambda k: (rank.get(memberships[k].status, 3), -memberships[k].start.toordinal()),
        )
        status = memberships[position].status
        company.membership_status = status
        company.is_member = status in services.CURRENT
        company.member_since = run_starts[position] if company.is_member else None
        if not company.is_member and rng.random() < 0.2:
            company.is_prospect = True  # being won back
        return memberships

    def save_companies(self, batch: list[Draft]) -> list[Served]:
        rng = self.rng
        companies = Company.objects.bulk_create([d.company for d in batch])
        memberships = [m for d in batch for m in d.memberships]
        for membership in memberships:
            membership.company_id = membership.company.pk
        Membership.objects.bulk_create(memberships)
        self.membership_count += len(memberships)
        tag_rows: list[Any] = []
        contacts: list[Contact] = []
        owners: list[int] = []
        served = []
        for position, draft in enumerate(batch):
            company, ms = draft.company, draft.memberships
            tag_rows.extend(
                Company.tags.through(company_id=company.pk, tag_id=self.tags[tag].pk)
                for tag in draft.tags
            )
            since = ms[0].start if ms else self.window_start
            until = self.today
            if ms and ms[-1].status in (MembershipStatus.LAPSED, MembershipStatus.RESIGNED):
                until = min(self.today, (ms[-1].resigned_on or ms[-1].end) + dt.timedelta(days=60))
            served.append(
                Served(
                    pk=company.pk,
                    delivery_weight=draft.delivery_weight,
                    interaction_weight=draft.interaction_weight,
                    since=(since - dt.timedelta(days=30)).toordinal(),
                    until=max(until, since).toordinal(),
                )
            )
            for k in range(draft.people):
                contacts.append(
                    self.contact(company, draft.area, first=k == 0, domain=draft.domain)
                )
                owners.append(position)
        Company.tags.through.objects.bulk_create(tag_rows)
        Contact.objects.bulk_create(contacts)
        self.contact_count += len(contacts)
        employments = []
        for contact, position in zip(contacts, owners, strict=True):
            served[position].contacts.append(contact.pk)
            joined = dt.date.fromordinal(
                rng.randint(
                    served[position].since, max(served[position].since, served[position].until)
                )
            )
            if rng.random() < 0.03 and len(companies) > 1:  # moved here from another company
                previous = rng.choice(companies)
                if previous.pk != contact.company_id:
                    employments.append(
                        Employment(
                            organisation=self.org,
                            contact=contact,
                            company=previous,
                            position=rng.choice(POSITIONS),
                            start=years_before(joined, rng.randint(2, 8)),
                            end=joined,
                        )
                    )
            employments.append(
                Employment(
                    organisation=self.org,
                    contact=contact,
                    company=contact.company,
                    position=contact.position,
                    start=joined,
                )
            )
        Employment.objects.bulk_create(employments)
        return served

    def contact(
        self, company: Company | None, area: str, *, first: bool, domain: str | None = None
    ) -> Contact:
        rng, fake = self.rng, self.fake
        first_name, last_name = fake.first_name(), fake.last_name()
        second = fake.last_name() if rng.random() < 0.9 else ""
        given = ascii_fold(first_name.split()[0]).lower()
        family = ascii_fold(last_name).lower().replace(" ", "").replace("-", "")
        host = domain or rng.choice(("gmail.com", "outlook.com", "hotmail.com", "yahoo.com.mx"))
        local = f"{given}.{family}" if rng.random() < 0.5 else f"{given[:1]}{family}"
        email = f"{local}@{host}"
        n = 1
        while email in self.emails:
            n += 1
            email = f"{local}{n}@{host}"
        self.emails.add(email)
        if company is None:
            position = rng.choice(("Consultor independiente", "Investigadora", "Funcionario"))
        elif company.is_public_body:
            position = rng.choice(PUBLIC_POSITIONS)
        elif first:
            position = "Director General" if company.size_band != "micro" else "Propietario"
        else:
            position = rng.choice(POSITIONS)
        consent = rng.random() < 0.75
        return Contact(
            organisation=self.org,
            first_name=first_name,
            last_name=last_name,
            second_last_name=second,
            position=position,
            company=company,
            email=email if rng.random() < 0.97 else "",
            phone=(str(company.phone) if company and company.phone else "")
            if rng.random() < 0.5
            else "",
            mobile=phone_number(rng, area) if rng.random() < 0.8 else "",
            language="en" if rng.random() < 0.03 else "es",
            privacy_consent=consent,
            privacy_consent_on=self.today - dt.timedelta(days=rng.randint(0, 1800))
            if consent
            else None,
            opt_out_email=rng.random() < 0.06,
            opt_out_phone=rng.random() < 0.03,
            opt_out_events=rng.random() < 0.04,
        )

    # Services delivered and interactions -----------------------------------------

    def pick_companies(
        self, served: list[Served], weights: list[float], count: int
    ) -> list[Served]:
        cum = list(accumulate(weights))
        return self.rng.choices(served, cum_weights=cum, k=count) if cum and cum[-1] else []

    def event_date(self, company: Served) -> dt.date:
        day = dt.date.fromordinal(self.rng.randint(company.since, company.until))
        day = weekday(day)
        return min(max(day, self.window_start), self.today)

    def staff(self) -> int | None:
        if not self.staff_ids:
            return None
        return self.staff_ids[bisect_right(self.staff_cum, self.rng.random() * self.staff_cum[-1])]

    def some_contacts(self, company: Served) -> list[int]:
        roll = self.rng.random()
        if not company.contacts or roll < 0.2:
            return []
        if roll < 0.9 or len(company.contacts) == 1:
            return [self.rng.choice(company.contacts)]
        return self.rng.sample(company.contacts, 2)

    def deliveries(self, served: list[Served], count: int) -> None:
        rng = self.rng
        chosen = self.pick_companies(served, [s.delivery_weight for s in served], count)
        through = ServiceDelivery.contacts.through
        for begin in range(0, len(chosen), EVENT_BATCH):
            rows, people = [], []
            for company in chosen[begin : begin + EVENT_BATCH]:
                k = bisect_right(self.service_cum, rng.random() * self.service_cum[-1])
                spec = SERVICES[k]
                rows.append(
                    ServiceDelivery(
                        organisation_id=self.org.pk,
                        company_id=company.pk,
                        service=self.services[k],
                        date=self.event_date(company),
                        staff_id=self.staff(),
                        channel=rng.choice(spec[5]),
                        hours=rng.choice(self.service_hours[k]),
                        outcome=rng.choice(spec[6]),
                        satisfaction=None
                        if rng.random() < 0.15
                        else weighted(rng, ((5, 55), (4, 30), (3, 10), (2, 3), (1, 2))),
                    )
                )
                people.append(self.some_contacts(company))
            ServiceDelivery.objects.bulk_create(rows)
            through.objects.bulk_create(
                [
                    through(servicedelivery_id=row.pk, contact_id=contact)
                    for row, contacts in zip(rows, people, strict=True)
                    for contact in contacts
                ]
            )

    def interactions(self, served: list[Served], count: int) -> None:
        rng, today = self.rng, self.today
        chosen = self.pick_companies(served, [s.interaction_weight for s in served], count)
        through = Interaction.contacts.through
        kinds = [k for k, _w in INTERACTION_KINDS]
        kind_cum = list(accumulate(w for _k, w in INTERACTION_KINDS))
        for begin in range(0, len(chosen), EVENT_BATCH):
            rows, people = [], []
            for company in chosen[begin : begin + EVENT_BATCH]:
                kind = kinds[bisect_right(kind_cum, rng.random() * kind_cum[-1])]
                # Win-back calls reach lapsed members too: interactions run to today.
                day = weekday(dt.date.fromordinal(rng.randint(company.since, today.toordinal())))
                day = min(max(day, self.window_start), today)
                follow_up, done = None, False
                if rng.random() < 0.25:
                    follow_up = day + dt.timedelta(days=rng.randint(2, 30))
                    age = (today - follow_up).days
                    done = rng.random() < (0.95 if age > 14 else 0.4 if age >= 0 else 0.0)
                rows.append(
                    Interaction(
                        organisation_id=self.org.pk,
                        company_id=company.pk,
                        kind=kind,
                        date=day,
                        staff_id=self.staff(),
                        summary=rng.choice(SUMMARIES[kind]),
                        follow_up_on=follow_up,
                        follow_up_done=done,
                    )
                )
                people.append(self.some_contacts(company))
            Interaction.objects.bulk_create(rows)
            through.objects.bulk_create(
                [
                    through(interaction_id=row.pk, contact_id=contact)
                    for row, contacts in zip(rows, people, strict=True)
                    for contact in contacts
                ]
            )
