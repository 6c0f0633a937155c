"""The visitor's pages in the visitor's language: from Accept-Language or the form's fixed language, with
the marketer's own translations, English when we have no catalogue, right to left for Arabic."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.models import Form, Submission
from tests.helpers import fetch_token, valid_fields

DEMO = "request-demo"
GERMAN = {"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"}


def set_form(db_session, slug, *, language=None, translations=None, **settings):
    form = db_session.scalars(select(Form).where(Form.slug == slug)).one()
    new = dict(form.settings or {}, **settings)
    if language is not None:
        new["language"] = language
    form.settings = new
    if translations is not None:
        form.translations = translations
    db_session.commit()


def html_lang(html):
    match = re.search(r'<html lang="([^"]*)" dir="([^"]*)"', html)
    assert match, html[:200]
    return match.groups()


def label(html, field):
    match = re.search(rf'<label for="{field}">([^<*]*)', html)
    assert match, f"no label for {field}"
    return match.group(1).strip()


def error(html, field):
    match = re.search(rf'<p class="error" id="{field}-error">([^<]*)</p>', html)
    assert match, f"no error for {field}"
    return match.group(1)


def test_hosted_form_in_german_from_accept_language(client):
    html = client.get(f"/f/{DEMO}", headers=GERMAN).get_data(as_text=True)
    assert html_lang(html) == ("de", "ltr")
    assert label(html, "email") == "Geschäftliche E-Mail-Adresse"
    assert label(html, "first_name") == "Vorname"
    assert label(html, "budget") == "Budget" and label(html, "timeline") == "Zeitrahmen"
    assert ">Bitte wählen…</option>" in html and ">Innerhalb eines Monats</option>" in html
    assert ">Demo anfordern</button>" in html
    assert "Dieses Feld leer lassen" in html  # the honeypot's label too


def test_empty_post_gets_german_errors(client, db_session):
    response = client.post(f"/f/{DEMO}", data={"consent": ""}, headers=GERMAN)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert html_lang(html) == ("de", "ltr")
    assert "Bitte korrigieren Sie die markierten Felder." in html
    assert error(html, "email") == "Geben Sie Ihre E-Mail-Adresse ein."
    assert error(html, "first_name") == "Geben Sie Ihren Vornamen ein."
    assert error(html, "last_name") == "Geben Sie Ihren Nachnamen ein."
    assert error(html, "company") == "Geben Sie Ihr Unternehmen an."
    assert db_session.scalars(select(Submission)).all() == []


def test_json_errors_and_validator_messages_in_german(client):
    data = valid_fields(DEMO, email="not-an-email", phone="ruf mich an", company="C" * 201)
    response = client.post(f"/f/{DEMO}", json=data, headers=GERMAN)
    assert response.status_code == 400
    body = response.get_json()
    assert body["message"] == "Einige Felder müssen noch korrigiert werden."
    assert body["fields"]["email"] == ["Geben Sie eine gültige E-Mail-Adresse ein, z. B. name@example.com."]
    assert body["fields"]["phone"] == ["Geben Sie eine Telefonnummer nur mit Ziffern, Leerzeichen und + ( ) - ein."]
    # WTForms' own messages come from its bundled catalogue in the same language.
    assert body["fields"]["company"] == ["Feld kann nicht länger als 200 Zeichen sein."]


def test_english_keeps_email_validators_detail(client):
    response = client.post(f"/f/{DEMO}", json=valid_fields(DEMO, email="a@b"), headers={"Accept-Language": "en"})
    assert "The part after the @-sign is not valid" in response.get_json()["fields"]["email"][0]


def test_fixed_form_language_overrides_the_browser(client, db_session):
    set_form(db_session, DEMO, language="fr")
    html = client.get(f"/f/{DEMO}", headers=GERMAN).get_data(as_text=True)
    assert html_lang(html) == ("fr", "ltr")
    assert label(html, "email") == "E-mail professionnel" and ">Demander une démo</button>" in html
    errors = client.post(f"/f/{DEMO}", json={}, headers=GERMAN).get_json()["fields"]
    assert errors["first_name"] == ["Saisissez votre prénom."]


def test_marketers_translations_replace_the_forms_texts(client, db_session):
    set_form(
        db_session,
        DEMO,
        intro="See it live.",
        translations={
            "de": {
                "title": "Demo anfragen",
                "intro": "Live erleben.",
                "button": "Jetzt anfragen",
                "label.email": "Ihre Firmen-E-Mail",
                "thank_you": "Danke, wir melden uns.",
            }
        },
    )
    html = client.get(f"/f/{DEMO}", headers=GERMAN).get_data(as_text=True)
    assert "<h1>Demo anfragen</h1>" in html and "<title>Demo anfragen</title>" in html
    assert '<p class="intro">Live erleben.</p>' in html
    assert label(html, "email") == "Ihre Firmen-E-Mail"
    assert label(html, "first_name") == "Vorname"  # no override: the catalogue's
    assert ">Jetzt anfragen</button>" in html
    # Another language keeps the marketer's own text and the catalogue's labels.
    english = client.get(f"/f/{DEMO}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "<h1>Request a demo</h1>" in english and '<p class="intro">See it live.</p>' in english
    assert label(english, "email") == "Work e-mail"

    token = fetch_token(client, DEMO)
    posted = client.post(f"/f/{DEMO}", data=valid_fields(DEMO, token=token), headers=GERMAN)
    thanks = client.get(posted.headers["Location"], headers=GERMAN).get_data(as_text=True)
    assert "<h1>Vielen Dank</h1>" in thanks and "Danke, wir melden uns." in thanks
    submission = db_session.scalars(select(Submission)).one()
    assert submission.language == "de"


def test_marketers_translation_is_escaped(client, db_session):
    set_form(db_session, DEMO, translations={"de": {"label.email": "<script>alert(1)</script>"}})
    html = client.get(f"/f/{DEMO}", headers=GERMAN).get_data(as_text=True)
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html


@pytest.mark.parametrize(
    "header", ["sv-SE,fi;q=0.8", "", "*", "de;q=0"], ids=["unsupported", "none", "wildcard", "refused"]
)
def test_unknown_language_falls_back_to_english(client, header):
    response = client.get(f"/f/{DEMO}", headers={"Accept-Language": header} if header else {})
    html = response.get_data(as_text=True)
    assert html_lang(html) == ("en", "ltr") and label(html, "email") == "Work e-mail"
    assert "Accept-Language" in response.headers["Vary"]


def test_arabic_page_is_right_to_left(client):
    html = client.get(f"/f/{DEMO}", headers={"Accept-Language": "ar-EG"}).get_data(as_text=True)
    assert html_lang(html) == ("ar", "rtl")
    assert label(html, "email") == "البريد الإلكتروني للعمل" and ">اطلب عرضًا توضيحيًا</button>" in html
    embed = client.get(f"/f/{DEMO}/embed", headers={"Accept-Language": "ar"}).get_data(as_text=True)
    assert html_lang(embed) == ("ar", "rtl")


def test_error_pages_in_the_visitors_language(client, db_session):
    missing = client.get("/f/no-such-form", headers=GERMAN)
    assert missing.status_code == 404
    html = missing.get_data(as_text=True)
    assert html_lang(html) == ("de", "ltr") and "<h1>Nicht gefunden</h1>" in html
    assert "Unter dieser Adresse gibt es kein Formular." in html
    assert client.get("/f/no-such-form", headers=GERMAN | {"Accept": "application/json"}).get_json() == {
        "error": "Not Found",  # for programs: HTTP's name stays
        "message": "Unter dieser Adresse gibt es kein Formular. Prüfen Sie den Link, dem Sie gefolgt sind.",
    }
    set_form(db_session, "old-webinar", language="ja")  # a fixed language holds on its error pages too
    gone = client.get("/f/old-webinar", headers=GERMAN).get_data(as_text=True)
    assert html_lang(gone) == ("ja", "ltr") and "このフォームは受付を終了しました。" in gone


def test_admin_stays_english(admin):
    html = admin.get("/admin/forms", headers=GERMAN).get_data(as_text=True)
    assert html.startswith("<!doctype html>") and "Vorname" not in html
    assert admin.get("/admin/no-such-page", headers=GERMAN).get_data(as_text=True).count("Nicht gefunden") == 0


def test_token_endpoint_gives_the_script_embed_its_texts(client, db_session):
    answer = client.get(f"/f/{DEMO}/token", headers=GERMAN)
    body = answer.get_json()
    assert (body["lang"], body["dir"]) == ("de", "ltr") and "Accept-Language" in answer.headers["Vary"]
    assert body["labels"]["email"] == "Geschäftliche E-Mail-Adresse" and body["labels"]["timeline"] == "Zeitrahmen"
    assert body["choices"]["timeline"]["now"] == "Innerhalb eines Monats"
    assert body["button"] == "Demo anfordern"
    assert body["messages"] == {
        "thanks": "Vielen Dank!",
        "download": "Ihr Exemplar herunterladen",
        "calendar": "Zum Kalender hinzufügen",
        "failed": "Etwas ist schiefgelaufen. Bitte versuchen Sie es erneut.",
    }
    set_form(db_session, DEMO, translations={"de": {"label.email": "Firmen-E-Mail", "button": "Los"}})
    body = client.get(f"/f/{DEMO}/token", headers=GERMAN).get_json()
    assert body["labels"]["email"] == "Firmen-E-Mail" and body["button"] == "Los"
    assert client.get(f"/f/{DEMO}/token", headers={"Accept-Language": "ar"}).get_json()["dir"] == "rtl"


def test_script_snippet_is_written_in_the_forms_fixed_language(app, db_session):
    from app.embed.snippets import script_snippet

    set_form(db_session, DEMO, language="nl")
    form = db_session.scalars(select(Form).where(Form.slug == DEMO)).one()
    with app.app_context():
        html = script_snippet(form, base_url="https://forms.example.com")
    assert (
        'lang="nl" dir="ltr"' in html
        and '-email">Zakelijk e-mailadres <span aria-hidden="true">*</span></label>' in html
    )
    assert ">Demo aanvragen</button>" in html and "Formulier ‘Request a demo’ openen" in html


def test_json_thank_you_message_in_german(client):
    token = fetch_token(client, "newsletter")
    response = client.post("/f/newsletter", json={"email": "sam@hooli.com", "token": token}, headers=GERMAN)
    assert response.status_code == 202
    assert response.get_json()["message"] == "Vielen Dank! Wir haben Ihre Angaben erhalten."


def test_custom_fields_rules_and_label_overrides_in_german(client, db_session):
    from forms.field_spec import parse_fields

    fields = [
        {"key": "email", "type": "email"},
        {"key": "seats", "type": "number", "label": "Seats", "required": True, "min": "1", "max": "500"},
        {"key": "plan", "type": "select", "label": "Plan", "required": True, "options": "team\nenterprise"},
    ]
    db_session.add(
        Form(
            slug="custom",
            name="Custom",
            kind="demo",
            settings={"fields": [s.as_dict() for s in parse_fields(fields)]},
            translations={"de": {"label.seats": "Lizenzen"}},
        )
    )
    db_session.commit()
    html = client.get("/f/custom", headers=GERMAN).get_data(as_text=True)
    assert label(html, "seats") == "Lizenzen" and label(html, "plan") == "Plan"  # the marketer's own, as written
    errors = client.post("/f/custom", json={"email": "a@acme.com", "seats": "900"}, headers=GERMAN).get_json()
    assert errors["fields"]["seats"] == ["Geben Sie eine Zahl von 1 bis 500 ein."]
    assert errors["fields"]["plan"] == ["Wählen Sie eine Antwort."]
