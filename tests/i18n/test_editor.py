"""The form editor: a form's language and its own texts per language, saved with the form and shown."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.models import Form
from tests.helpers import csrf_from

DEMO = "request-demo"


def editor_post(admin, form_id, **changes):
    """The editor's own fields as it shows them, with `changes`, posted back."""
    html = admin.get(f"/admin/forms/{form_id}").get_data(as_text=True)
    data = {
        "csrf_token": csrf_from(html),
        "name": "Request a demo",
        "slug": DEMO,
        "kind": "demo",
        "active": "y",
        "consent_text": "I agree to be contacted.",
        "consent_required": "y",
        "shown": ["email", "first_name", "last_name", "company"],
        "required": ["email", "first_name", "last_name", "company"],
    }
    data.update(changes)
    return admin.post(f"/admin/forms/{form_id}", data=data)


def demo(db_session):
    db_session.expire_all()
    return db_session.scalars(select(Form).where(Form.slug == DEMO)).one()


def test_language_and_translations_are_saved_and_shown_again(admin, client, db_session):
    form = demo(db_session)
    lines = "de.title = Demo anfragen\nde.label.email = Ihre Firmen-E-Mail\nfr.button = Réserver une démo"
    response = editor_post(admin, form.id, language="de", translations=lines)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    form = demo(db_session)
    assert form.settings["language"] == "de"
    assert form.translations == {
        "de": {"title": "Demo anfragen", "label.email": "Ihre Firmen-E-Mail"},
        "fr": {"button": "Réserver une démo"},
    }
    html = admin.get(f"/admin/forms/{form.id}").get_data(as_text=True)
    assert '<option selected value="de">Deutsch (de)</option>' in html
    assert "de.title = Demo anfragen\nde.label.email = Ihre Firmen-E-Mail\nfr.button = Réserver une démo" in html
    # The form is now German whatever the browser asks for, with the marketer's texts.
    page = client.get(f"/f/{DEMO}", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert '<html lang="de" dir="ltr">' in page and "<h1>Demo anfragen</h1>" in page
    assert re.search(r'<label for="email">Ihre Firmen-E-Mail', page)

    # Back to the visitor's browser: French from the header, with the French button.
    assert editor_post(admin, form.id, language="", translations=lines).status_code == 302
    page = client.get(f"/f/{DEMO}", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert '<html lang="fr" dir="ltr">' in page and ">Réserver une démo</button>" in page


def test_a_bad_line_or_language_is_named_and_nothing_saved(admin, db_session):
    form = demo(db_session)
    response = editor_post(admin, form.id, translations="de.title = Demo\nde.subtitle = Nein")
    assert response.status_code == 400
    assert "line 2: &#39;subtitle&#39; is not a text a language can replace" in response.get_data(as_text=True)
    response = editor_post(admin, form.id, language="xx")
    assert response.status_code == 400 and "choose one of en, de" in response.get_data(as_text=True)
    assert demo(db_session).translations == {} and "language" not in demo(db_session).settings


def test_preview_speaks_the_chosen_language(admin):
    html = admin.get("/admin/forms/new").get_data(as_text=True)
    data = {
        "csrf_token": csrf_from(html),
        "name": "Demo",
        "slug": "demo-x",
        "kind": "demo",
        "language": "ja",
        "translations": "ja.button = 今すぐ申し込む",
        "shown": ["email", "first_name"],
    }
    preview = admin.post("/admin/forms/preview", data=data).get_data(as_text=True)
    assert "勤務先のメールアドレス" in preview and ">今すぐ申し込む</button>" in preview
