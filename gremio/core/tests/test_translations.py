"""The Spanish catalogue covers every string in the code, is compiled, and is used.

How a new untranslated string is caught: ``makemessages`` runs on a copy of
the project's source files and catalogue in a temporary directory, exactly as
``make messages`` would, and the regenerated catalogue must have no empty and
no fuzzy entry. It cannot run in place with only ``LOCALE_PATHS`` overridden:
run from the project root, makemessages finds the root's ``locale/`` directory
while walking the tree, puts it first, and writes the catalogue there
(``find_files`` in django/core/management/commands/makemessages.py). Running
in the copy leaves the committed files untouched, which the test also checks.

To fix a failure: ``make messages``, translate the listed strings in
locale/es/LC_MESSAGES/django.po (removing any ``#, fuzzy`` flag), and compile
again (``make messages`` does both steps).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.utils import is_ignored_path
from django.test import override_settings

from gremio.core.models import Organisation
from gremio.core.tests.factories import OrganisationFactory, member_of

PROJECT_ROOT = Path(settings.BASE_DIR)
CATALOGUE = Path("locale", "es", "LC_MESSAGES", "django.po")
PO_PATH = PROJECT_ROOT / CATALOGUE
MO_PATH = PO_PATH.with_suffix(".mo")

# The ignore patterns of `make messages`, plus makemessages' own defaults.
IGNORE_PATTERNS = [".venv", "node_modules", "staticfiles"]
DEFAULT_IGNORE_PATTERNS = ["CVS", ".*", "*~", "*.pyc"]
# Files makemessages reads for the "django" domain, and the catalogues it merges into.
COPIED_SUFFIXES = {".py", ".html", ".txt", ".po"}

PLACEHOLDER = re.compile(r"%\(\w+\)[sdif]|\{\w*\}")

FIX = "run `make messages`, translate them in locale/es/LC_MESSAGES/django.po and compile again"


def _describe(entries: list[polib.POEntry]) -> str:
    return "\n".join(
        f"  {e.msgid!r}  ({', '.join(f'{f}:{n}' for f, n in e.occurrences[:2])})" for e in entries
    )


def _assert_complete(po: polib.POFile, what: str) -> None:
    untranslated = po.untranslated_entries()
    fuzzy = po.fuzzy_entries()
    problems = []
    if untranslated:
        problems.append(
            f"{len(untranslated)} string(s) without a Spanish translation in {what}:\n"
            + _describe(untranslated)
        )
    if fuzzy:
        problems.append(
            f"{len(fuzzy)} fuzzy (unchecked) translation(s) in {what}:\n" + _describe(fuzzy)
        )
    assert not problems, "\n".join(problems) + f"\nTo fix: {FIX}."


def _copy_sources(source: Path, target: Path) -> None:
    """Copy what makemessages reads, skipping the directories it would skip."""
    patterns = IGNORE_PATTERNS + DEFAULT_IGNORE_PATTERNS
    skipped_roots = {Path(p).resolve() for p in (settings.STATIC_ROOT, settings.MEDIA_ROOT) if p}
    for dirpath, dirnames, filenames in os.walk(source):
        current = Path(dirpath)
        dirnames[:] = [
            d
            for d in dirnames
            if not is_ignored_path(os.path.relpath(current / d, source), patterns)
            and (current / d).resolve() not in skipped_roots
        ]
        for name in filenames:
            if Path(name).suffix in COPIED_SUFFIXES:
                destination = target / (current / name).relative_to(source)
                destination.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(current / name, destination)


def _snapshot(directory: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p): (p.stat().st_mtime_ns, p.stat().st_size)
        for p in directory.rglob("*")
        if p.is_file()
    }


@pytest.fixture(scope="module")
def regenerated_catalogue(tmp_path_factory: pytest.TempPathFactory) -> polib.POFile:
    """The Spanish catalogue as `make messages` would leave it for the current code."""
    for program in ("xgettext", "msguniq", "msgmerge", "msgattrib"):
        if shutil.which(program) is None:
            pytest.skip(f"GNU gettext's {program} is not installed")
    work = tmp_path_factory.mktemp("makemessages")
    _copy_sources(PROJECT_ROOT, work)
    before = _snapshot(PROJECT_ROOT / "locale")
    previous_cwd = os.getcwd()
    os.chdir(work)
    try:
        with override_settings(LOCALE_PATHS=[str(work / "locale")]):
            call_command(
                "makemessages",
                locale=["es"],
                no_obsolete=True,
                ignore_patterns=list(IGNORE_PATTERNS),  # makemessages appends to this list
                verbosity=0,
            )
    finally:
        os.chdir(previous_cwd)
    assert _snapshot(PROJECT_ROOT / "locale") == before, "makemessages wrote into the repository"
    return polib.pofile(str(work / CATALOGUE))


def test_catalogue_covers_every_string_in_the_code(regenerated_catalogue: polib.POFile) -> None:
    _assert_complete(regenerated_catalogue, "the catalogue regenerated from the code")


def test_committed_catalogue_is_complete() -> None:
    po = polib.pofile(str(PO_PATH))
    assert not po.metadata_is_fuzzy, "The header of django.po is marked fuzzy; remove the flag."
    assert po.metadata.get("Plural-Forms"), "django.po has no Plural-Forms header."
    _assert_complete(po, str(CATALOGUE))


def test_translations_keep_their_placeholders() -> None:
    wrong = []
    for entry in polib.pofile(str(PO_PATH)).translated_entries():
        if entry.msgid_plural:
            expected = sorted(PLACEHOLDER.findall(entry.msgid_plural))
            translations = list(entry.msgstr_plural.values())
        else:
            expected = sorted(PLACEHOLDER.findall(entry.msgid))
            translations = [entry.msgstr]
        wrong += [
            f"  {entry.msgid!r} -> {text!r}"
            for text in translations
            if sorted(PLACEHOLDER.findall(text)) != expected
        ]
    assert not wrong, "Translations whose placeholders differ from the English:\n" + "\n".join(
        wrong
    )


def test_compiled_catalogue_matches_the_po_file() -> None:
    def translations(entries: list[polib.POEntry]) -> dict:
        return {
            (e.msgctxt, e.msgid): (
                tuple(sorted(e.msgstr_plural.items())) if e.msgid_plural else e.msgstr
            )
            for e in entries
        }

    assert MO_PATH.exists(), f"{MO_PATH.relative_to(PROJECT_ROOT)} is missing; {FIX}."
    po = polib.pofile(str(PO_PATH))
    mo = polib.mofile(str(MO_PATH))
    source = translations(po.translated_entries())
    compiled = translations(list(mo))
    stale = sorted(
        msgid
        for msgctxt, msgid in source.keys() | compiled.keys()
        if source.get((msgctxt, msgid)) != compiled.get((msgctxt, msgid))
    )
    assert not stale, (
        "django.mo is out of date with django.po for:\n"
        + "\n".join(f"  {msgid!r}" for msgid in stale)
        + "\nTo fix: .venv/bin/python manage.py compilemessages -l es --ignore=.venv"
    )
    assert mo.metadata.get("Plural-Forms") == po.metadata.get("Plural-Forms")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "expected", "unexpected"),
    [
        ("es-mx", "Ejes estratégicos", "Strategic pillars"),
        ("en", "Strategic pillars", "Ejes estratégicos"),
    ],
)
def test_pages_speak_the_chosen_language(client, language, expected, unexpected) -> None:
    organisation: Organisation = OrganisationFactory.create()
    client.force_login(member_of(organisation, "admin"))
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language

    response = client.get(f"/{organisation.slug}/pillars/")

    assert response.status_code == 200
    html = response.content.decode()
    assert f'<html lang="{language}">' in html
    assert expected in html
    assert unexpected not in html
