"""Field lists: forms saved before them behave exactly as they did (the shapes recorded then), forms
converted by the migration likewise, and a field of every type renders, validates and is stored typed."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from app.models import Form, Submission
from forms.dynamic import default_fields
from forms.field_spec import FieldListError, parse_fields
from forms.kinds import FORM_KINDS
from tests.capture.form_shape import controls, shape, token_of

SHAPES = json.loads((Path(__file__).parent / "data" / "demo_form_shapes.json").read_text())
TUNED = {"shown": ["email", "first_name", "phone", "country"], "required": ["email", "phone"], "consent_text": "OK?"}


@pytest.fixture
def settings(settings):
    settings.update(RATELIMIT_ENABLED=False)
    return settings


def without_consent(recorded: dict[str, Any]) -> dict[str, Any]:
    """Consent is not a field of the list (its own model): left out of the comparison."""
    result = {"controls": [c for c in recorded["controls"] if "consent" not in c["name"]], "answers": {}}
    for probe, answer in recorded["answers"].items():
        fields = {k: v for k, v in (answer["fields"] or {}).items() if "consent" not in k} or None
        result["answers"][probe] = {
            "status": answer["status"] if fields or answer["status"] != 400 else 202,
            "fields": fields,
        }
    return result


def stored(db_session, slug: str) -> dict[str, Any]:
    db_session.expire_all()
    row = db_session.scalars(
        select(Submission).join(Form).where(Form.slug == slug).order_by(Submission.id.desc())
    ).first()
    return {k: getattr(row, k) for k in SHAPES[slug]["stored"] if k != "consent_given"}


def add_tuned(db_session, settings: dict[str, Any]) -> None:
    db_session.add(Form(slug="tuned", name="Tuned", kind="demo", settings=settings))
    db_session.commit()


def convert(db_session) -> None:
    """What the migration does: every form gets the field list its kind and settings describe."""
    for form in db_session.scalars(select(Form)):
        settings = dict(form.settings)
        settings["fields"] = default_fields(FORM_KINDS[form.kind], settings.get("shown"), settings.get("required"))
        form.settings = settings
    db_session.commit()


@pytest.mark.parametrize("converted", [False, True], ids=["as-saved", "converted"])
@pytest.mark.parametrize("slug", sorted(SHAPES))
def test_forms_render_validate_and_store_as_before_field_lists(client, db_session, slug, converted):
    add_tuned(db_session, TUNED)
    if converted:
        convert(db_session)
    token = token_of(client.get(f"/f/{slug}").get_data(as_text=True))
    assert without_consent(shape(client, slug, token)) == without_consent(SHAPES[slug])
    expected = {k: v for k, v in SHAPES[slug]["stored"].items() if k != "consent_given"}
    assert stored(db_session, slug) == expected


def test_the_recorded_shapes_are_what_a_form_looks_like():
    """The comparison has teeth: the recorded demo form asks its questions in order, with autocomplete."""
    names = [c["name"] for c in SHAPES["request-demo"]["controls"]]
    assert names[:2] == ["email", "first_name"] and names.index("budget") < names.index("company_size")
    assert SHAPES["request-demo"]["controls"][0]["autocomplete"] == "email"


# --- a field of each type --------------------------------------------------------------------------

CUSTOM = [
    {"key": "email", "type": "email", "label": "", "required": True, "prefill": True},
    {"key": "seats", "type": "number", "label": "Seats", "required": True, "min": 1, "max": 500, "prefill": True},
    {"key": "use_case", "type": "textarea", "label": "Use case", "help": "A sentence or two.", "max_length": 300},
    {"key": "manager", "type": "email", "label": "Manager's e-mail"},
    {"key": "mobile", "type": "tel", "label": "Mobile"},
    {
        "key": "plan",
        "type": "select",
        "label": "Plan",
        "required": True,
        "options": "team = Team\nenterprise = Enterprise",
    },
    {"key": "region", "type": "radio", "label": "Region", "required": True, "options": "eu = Europe\nus = Americas"},
    {
        "key": "tools",
        "type": "multi_checkbox",
        "label": "Tools you use",
        "options": "crm = A CRM\nsheet = Spreadsheets",
    },
    {"key": "updates", "type": "checkbox", "label": "Send me product updates", "required": True},
    {"key": "ref_code", "type": "text", "label": "Referral code", "pattern": "[A-Z]{3}-[0-9]{3}", "prefill": True},
    {"key": "campaign", "type": "hidden", "label": "", "default": "spring", "prefill": True},
    {"key": "partner", "type": "text", "label": "Partner", "hidden": True, "default": "none"},
]


@pytest.fixture
def custom_form(db_session):
    specs = parse_fields(CUSTOM)
    db_session.add(Form(slug="custom", name="Custom", kind="demo", settings={"fields": [s.as_dict() for s in specs]}))
    db_session.commit()
    return "custom"


def test_every_field_type_renders_with_labels_markers_help_and_types(client, custom_form):
    html = client.get("/f/custom").get_data(as_text=True)
    shaped = {c["name"] + ":" + c.get("value", ""): c for c in controls(html)}
    assert shaped["seats:"]["required"] and shaped["seats:"]["label"] == "Seats *"
    assert shaped["use_case:"]["tag"] == "textarea" and 'id="use_case-help"' in html
    assert shaped["manager:"]["type"] == "email" and shaped["mobile:"]["type"] == "tel"
    assert shaped["plan:"]["options"] == ["", "team", "enterprise"] and shaped["plan:"]["required"]
    assert shaped["region:eu"]["type"] == "radio" and shaped["region:eu"]["required"]
    assert shaped["tools:crm"]["type"] == "checkbox" and not shaped["tools:crm"]["required"]
    assert shaped["updates:y"]["required"] and shaped["updates:y"]["label"] == "Send me product updates *"
    assert shaped["campaign:"]["type"] == "hidden" and shaped["partner:"]["type"] == "hidden"
    assert 'name="campaign" id="campaign" value="spring"' in html
    assert '<legend>Region <span aria-hidden="true">*</span></legend>' in html
    assert "budget" not in shaped  # the kind's own questions only when listed


def post(client, **fields: Any):
    token = token_of(client.get("/f/custom").get_data(as_text=True))
    return client.post("/f/custom", json={"token": token, **fields}, headers={"Accept": "application/json"})


def test_each_rule_answers_with_a_message_on_its_field(client, custom_form):
    response = post(
        client,
        email="ada@acme.com",
        seats="many",
        use_case="x" * 301,
        manager="nope",
        mobile="call me",
        plan="gold",
        region="asia",
        tools="fax",
        ref_code="abc",
    )
    assert response.status_code == 400
    errors = response.get_json()["fields"]
    assert errors["seats"] == ["Enter a number."]
    assert errors["use_case"] == ["Field cannot be longer than 300 characters."]
    assert errors["manager"] and errors["mobile"] and errors["ref_code"] == ["Enter a value in the format asked for."]
    assert errors["plan"] == ["Not a valid choice."] and errors["region"] == ["Not a valid choice."]
    assert errors["tools"] == ["'fax' is not a valid choice for this field."]
    assert errors["updates"] == ["Tick this box to continue."]
    assert set(errors) == {"seats", "use_case", "manager", "mobile", "plan", "region", "tools", "updates", "ref_code"}


def test_required_fields_and_number_range(client, custom_form):
    errors = post(client, email="ada@acme.com", seats="0").get_json()["fields"]
    assert errors["seats"] == ["Enter a number from 1 to 500."]
    assert errors["plan"] == ["Choose an answer."] and errors["region"] == ["Choose an answer."]
    assert errors["updates"] == ["Tick this box to continue."]


def test_html_post_shows_the_errors_beside_the_fields(client, custom_form):
    token = token_of(client.get("/f/custom").get_data(as_text=True))
    response = client.post("/f/custom", data={"token": token, "email": "ada@acme.com", "seats": "x"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert '<p class="error" id="seats-error">Enter a number.</p>' in html
    assert '<p class="error" id="updates-error">Tick this box to continue.</p>' in html


def test_answers_are_stored_typed_by_field_key(client, db_session, custom_form):
    response = post(
        client,
        email="ada@acme.com",
        seats="12",
        use_case="Routing leads",
        manager="Boss@Acme.com",
        plan="team",
        region="eu",
        updates=True,
        ref_code="ABC-123",
    )
    assert response.status_code == 202, response.get_json()
    db_session.expire_all()
    row = db_session.scalars(select(Submission)).one()
    assert row.answers == {
        "seats": 12,
        "use_case": "Routing leads",
        "manager": "Boss@acme.com",
        "plan": "team",
        "region": "eu",
        "updates": True,
        "ref_code": "ABC-123",
        "campaign": "spring",  # hidden, not posted: its default
        "partner": "none",
    }


def test_multi_checkbox_and_decimal_from_a_form_post(client, db_session, custom_form):
    token = token_of(client.get("/f/custom").get_data(as_text=True))
    data = [
        ("token", token),
        ("email", "ada@acme.com"),
        ("seats", "2.5"),
        ("plan", "enterprise"),
        ("region", "us"),
        ("updates", "y"),
        ("tools", "crm"),
        ("tools", "sheet"),
        ("campaign", "autumn"),
    ]
    response = client.post("/f/custom", data=MultiDict(data))
    assert response.status_code == 303
    db_session.expire_all()
    answers = db_session.scalars(select(Submission)).one().answers
    assert answers["seats"] == 2.5 and answers["tools"] == ["crm", "sheet"] and answers["campaign"] == "autumn"


def test_prefill_only_the_allow_listed_fields_and_only_to_an_option(client, custom_form):
    html = client.get(
        "/f/custom?email=ada@acme.com&seats=40&ref_code=ABC-123&campaign=launch&use_case=hello&partner=evil&plan=team"
    ).get_data(as_text=True)

    def value(name: str) -> str | None:
        tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
        found = re.search(r'value="([^"]*)"', tag.group(0)) if tag else None
        return found.group(1) if found else None

    assert value("email") == "ada@acme.com" and value("seats") == "40" and value("ref_code") == "ABC-123"
    assert value("campaign") == "launch"  # a hidden field the form lets links set
    assert value("partner") == "none"  # hidden, not allow-listed: its default stands
    assert ">hello</textarea>" not in html and "selected" not in html  # not allow-listed


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ([{"key": "first_name", "type": "text", "label": "x"}], (0, "key")),  # no e-mail field
        ([{"key": "email", "type": "email"}, {"key": "Bad Key", "type": "text", "label": "x"}], (1, "key")),
        ([{"key": "email", "type": "email"}, {"key": "token", "type": "text", "label": "x"}], (1, "key")),
        ([{"key": "email", "type": "email"}, {"key": "x", "type": "colour", "label": "x"}], (1, "type")),
        ([{"key": "email", "type": "email"}, {"key": "x", "type": "text", "label": ""}], (1, "label")),
        ([{"key": "email", "type": "email"}, {"key": "x", "type": "select", "label": "X"}], (1, "options")),
        (
            [{"key": "email", "type": "email"}, {"key": "x", "type": "select", "label": "X", "options": "a\na"}],
            (1, "options"),
        ),
        (
            [{"key": "email", "type": "email"}, {"key": "x", "type": "text", "label": "X", "pattern": "("}],
            (1, "pattern"),
        ),
        (
            [{"key": "email", "type": "email"}, {"key": "x", "type": "text", "label": "X", "max_length": "0"}],
            (1, "max_length"),
        ),
        (
            [{"key": "email", "type": "email"}, {"key": "x", "type": "number", "label": "X", "min": "5", "max": "1"}],
            (1, "max"),
        ),
        ([{"key": "email", "type": "email"}, {"key": "x", "type": "number", "label": "X", "min": "low"}], (1, "min")),
        (
            [{"key": "email", "type": "email"}, {"key": "x", "type": "checkbox", "label": "X", "hidden": True}],
            (1, "hidden"),
        ),
        ([{"key": "email", "type": "email", "hidden": True}], (0, "hidden")),
        (
            [
                {"key": "email", "type": "email"},
                {"key": "x", "type": "radio", "label": "X", "options": "a", "default": "b"},
            ],
            (1, "default"),
        ),
        (
            [
                {"key": "email", "type": "email"},
                {"key": "x", "type": "text", "label": "X", "mapping": {"hubspot": "Bad Name"}},
            ],
            (1, "map_hubspot"),
        ),
        ([{"key": "email", "type": "email"}, {"key": "email", "type": "email"}], (1, "key")),
    ],
    ids=[
        "no-email",
        "bad-key",
        "reserved-key",
        "unknown-type",
        "no-label",
        "no-options",
        "duplicate-option",
        "bad-pattern",
        "bad-max-length",
        "min-above-max",
        "min-not-a-number",
        "hidden-checkbox",
        "hidden-email",
        "default-not-an-option",
        "bad-hubspot-name",
        "duplicate-key",
    ],
)
def test_a_bad_field_list_is_refused_naming_the_field_and_attribute(fields, where):
    with pytest.raises(FieldListError) as caught:
        parse_fields(fields)
    assert where in caught.value.errors


def test_a_contact_field_keeps_its_type_and_rules():
    specs = parse_fields([{"key": "email", "type": "number", "label": "", "pattern": "x", "max_length": 9}])
    assert specs[0].type == "email" and specs[0].pattern == "" and specs[0].max_length is None and specs[0].required


def test_json_posts_give_several_choices_as_a_list_of_values(client, db_session, custom_form):
    response = post(
        client, email="ada@acme.com", seats=3, plan="team", region="eu", updates=True, tools=["crm", "sheet"]
    )
    assert response.status_code == 202, response.get_json()
    db_session.expire_all()
    assert db_session.scalars(select(Submission)).one().answers["tools"] == ["crm", "sheet"]
    refused = post(client, email="ada@acme.com", tools=[{"crm": True}])
    assert refused.status_code == 400 and refused.get_json()["message"] == "Field 'tools' must be text, not list."
