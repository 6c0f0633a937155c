"""Every catalogue translates every visitor-facing string of the code, and what runs (.mo) is what was
written (.po): a string added without its translations fails here, naming it."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from app.i18n.languages import LANGUAGES

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "app" / "translations"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "_l": None, "lazy_gettext": None}


@pytest.fixture(scope="module")
def msgids() -> set[str]:
    """The msgids in the code and templates babel.cfg names, as `pybabel extract` finds them."""
    with (TRANSLATIONS / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found = {
        message if isinstance(message, str) else message[0]
        for _file, _line, message, _comments, _context in extract_from_dir(
            ROOT, method_map, options_map, keywords=KEYWORDS
        )
    }
    assert "Work e-mail" in found and "Thank you" in found  # the extraction itself works
    return found


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_catalogue_translates_every_string(language, msgids):
    with (TRANSLATIONS / language / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalogue = read_po(po)
    missing = sorted(m for m in msgids if m not in catalogue or not catalogue[m].string)
    fuzzy = sorted(m.id for m in catalogue if m.id and m.fuzzy)
    assert missing == [], f"{language}: untranslated: {missing}"
    assert fuzzy == [], f"{language}: fuzzy: {fuzzy}"
    for message in catalogue:
        if message.id and "%(" in message.id:  # every placeholder kept
            assert sorted(_placeholders(message.string)) == sorted(_placeholders(message.id)), message.id


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_compiled_catalogue_is_the_written_one(language):
    folder = TRANSLATIONS / language / "LC_MESSAGES"
    with (folder / "messages.po").open("rb") as po, (folder / "messages.mo").open("rb") as mo:
        written, compiled = read_po(po), read_mo(mo)
    assert {m.id: m.string for m in compiled if m.id} == {m.id: m.string for m in written if m.id}, (
        f"{folder}/messages.mo is stale: run .venv/bin/pybabel compile -d app/translations"
    )


def _placeholders(text: str) -> list[str]:
    return [part.split(")", 1)[0] for part in text.split("%(")[1:]]
