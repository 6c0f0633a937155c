"""Migration 0020 gives every existing form the field list its kind and settings described (the list
forms/dynamic.py derives, which tests/capture/test_field_model.py shows renders and validates as before)."""

from __future__ import annotations

import json

from sqlalchemy import text

from app.db import make_engine
from app.runtime.migrations import downgrade, upgrade
from app.runtime.seed import DEMO_FORMS
from forms.dynamic import default_fields
from forms.kinds import FORM_KINDS

REVISION = "0020"
OWN_LIST = [{"key": "email", "type": "email", "label": "Mail"}]
FORMS = [
    *((spec["slug"], spec["kind"], spec["settings"]) for spec in DEMO_FORMS),
    ("sales", "contact_sales", {}),
    ("news", "newsletter", {}),
    ("tuned", "demo", {"shown": ["email", "phone", "country"], "required": ["email", "phone"]}),
    ("listed", "demo", {"fields": OWN_LIST}),
]


def test_existing_forms_get_the_field_list_they_showed_and_lose_it_on_downgrade(tmp_path):
    url = f"sqlite:///{tmp_path / 'forms.db'}"
    upgrade(url, "0019")
    engine = make_engine(url)
    with engine.begin() as connection:
        for slug, kind, settings in FORMS:
            connection.execute(
                text(
                    "INSERT INTO forms (slug, name, kind, active, settings, created_at, updated_at) "
                    "VALUES (:slug, :slug, :kind, true, :settings, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                {"slug": slug, "kind": kind, "settings": json.dumps(settings)},
            )
    upgrade(url, REVISION)

    def stored() -> dict[str, dict]:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT slug, settings FROM forms")).all()
        return {slug: json.loads(settings) if isinstance(settings, str) else settings for slug, settings in rows}

    after = stored()
    for slug, kind, settings in FORMS:
        if slug == "listed":
            assert after[slug]["fields"] == OWN_LIST  # a list of its own is kept
            continue
        expected = default_fields(FORM_KINDS[kind], settings.get("shown"), settings.get("required"))
        assert after[slug]["fields"] == expected, slug
        assert {k: v for k, v in after[slug].items() if k != "fields"} == settings
    assert [f["key"] for f in after["tuned"]["fields"]] == ["email", "phone", "country", *FORM_KINDS["demo"].BANT]

    downgrade(url, "0019")
    before = stored()
    assert all("fields" not in before[slug] for slug, _, _ in FORMS if slug != "listed")
    engine.dispose()
