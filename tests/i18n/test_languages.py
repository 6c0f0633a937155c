"""The pure parts: which language a page is in, its direction, and the editor's override lines."""

from __future__ import annotations

import pytest

from app.i18n.languages import LANGUAGES, RTL, choose, direction, supported
from app.i18n.overrides import OverrideError, parse, render, text_for


@pytest.mark.parametrize(
    ("fixed", "accepted", "expected"),
    [
        ("", [("de-DE", 1.0), ("en", 0.8)], "de"),
        ("", [("en", 0.5), ("fr-CA", 0.9)], "fr"),  # quality decides, not order
        ("", [("sv", 1.0), ("pt-BR", 0.7)], "pt"),  # the first language we have
        ("", [("sv", 1.0), ("fi", 0.5)], "en"),  # none we have: English
        ("", [("de", 0.0)], "en"),  # q=0 means "not this one"
        ("", [], "en"),
        ("ja", [("de", 1.0)], "ja"),  # the form's fixed language wins over the browser
        ("xx", [("nl", 1.0)], "nl"),  # a fixed language we do not have is ignored
    ],
    ids=["de-de", "by-quality", "first-supported", "none-supported", "q-zero", "empty", "fixed", "fixed-unknown"],
)
def test_choose(fixed, accepted, expected):
    assert choose(fixed, accepted) == expected


def test_directions_and_tags():
    assert direction("ar") == direction("ar-EG") == direction("ar_EG") == "rtl"
    assert direction("de") == direction("en-US") == "ltr"
    assert supported("PT_br") == "pt" and supported("zz") == "" and supported("") == ""
    assert {"en", "de", "fr", "es", "pt", "it", "nl", "ja"} <= set(LANGUAGES) and RTL & set(LANGUAGES)


def test_override_lines_round_trip():
    text = "de.title = Demo anfordern\n\n# a comment\nde.label.email = Geschäftliche E-Mail\nfr.button = Envoyer\n"
    stored = parse(text)
    assert stored == {
        "de": {"title": "Demo anfordern", "label.email": "Geschäftliche E-Mail"},
        "fr": {"button": "Envoyer"},
    }
    assert parse(render(stored)) == stored
    assert render(stored).splitlines()[0] == "de.title = Demo anfordern"  # texts first, then labels
    assert text_for(stored, "de", "label.email") == "Geschäftliche E-Mail"
    assert (
        text_for(stored, "de", "intro") == ""
        and text_for(stored, "ja", "title") == ""
        and text_for(None, "de", "x") == ""
    )
    assert parse("de.intro =   ") == {}  # an empty translation is no translation
    body = parse("de.email_body = Hallo.\\n\\nBis bald.")
    assert body == {"de": {"email_body": "Hallo.\n\nBis bald."}} and parse(render(body)) == body


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("title = Demo", "line 1: write it as language.text = translation"),
        ("xx.title = Demo", "line 1: 'xx' is not one of"),
        ("de.subtitle = Demo", "line 1: 'subtitle' is not a text a language can replace"),
        ("de.label. = E-Mail", "line 1: write it as"),
        ("de.label.Email = E-Mail", "line 1: write it as"),
    ],
    ids=["no-language", "unknown-language", "unknown-text", "empty-key", "upper-case-key"],
)
def test_bad_override_lines_are_named(line, message):
    with pytest.raises(OverrideError, match=message.replace("(", r"\(").replace(".", r"\.")):
        parse(line)
