"""The webinar .ics written by hand, read back by an independent parser (icalendar); start times
the editor accepts; the editor's webinar and e-mail settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import icalendar
import pytest

from app.capture.calendar import StartTimeError, Webinar, fold, ics, parse_starts_at, webinar_of, when_text
from app.capture.form_settings import FormInput, FormSettingsError, build_settings
from app.capture.thanks import absolute_url, read_thanks_token, sends_visitor_email, thanks_token

NOW = datetime(2026, 12, 2, 8, 30, tzinfo=UTC)


def event_of(data: bytes):
    [event] = icalendar.Calendar.from_ical(data).walk("VEVENT")
    return event


def test_ics_reads_back_with_every_property():
    webinar = Webinar(
        "Pipeline Live", datetime(2026, 12, 10, 17, 0, tzinfo=timezone(timedelta(hours=1))), 45, "https://x.example/j"
    )
    data = ics(webinar, uid="webinar-form-3@forms.example.com", now=NOW, description="A live session.")
    assert data.endswith(b"\r\n") and b"\n" not in data.replace(b"\r\n", b"")
    calendar = icalendar.Calendar.from_ical(data)
    assert (str(calendar["VERSION"]), str(calendar["METHOD"])) == ("2.0", "PUBLISH")
    event = event_of(data)
    assert event["DTSTART"].dt == datetime(2026, 12, 10, 16, 0, tzinfo=UTC)  # in UTC
    assert event["DTEND"].dt == datetime(2026, 12, 10, 16, 45, tzinfo=UTC)
    assert event["DTSTAMP"].dt == NOW
    assert str(event["UID"]) == "webinar-form-3@forms.example.com"
    assert str(event["SUMMARY"]) == "Pipeline Live"
    assert str(event["URL"]) == "https://x.example/j"
    assert str(event["DESCRIPTION"]) == "A live session.\n\nJoin: https://x.example/j"
    assert b"DTSTART:20261210T160000Z\r\n" in data


@pytest.mark.parametrize(
    "title",
    [
        "Q&A; pricing, plans \\ more",
        "Zeile eins\r\nZeile zwei\nEND:VEVENT\nBEGIN:VEVENT",
        "Über " * 40 + "日本語のウェビナー" * 10,
        "\x00\x07 bell",
    ],
)
def test_text_is_escaped_and_folded_so_nothing_breaks_out(title):
    data = ics(Webinar(title, NOW, 60, ""), uid="u@x", now=NOW)
    lines = data.split(b"\r\n")
    assert all(len(line) <= 75 for line in lines)  # octets, not characters
    assert lines.count(b"BEGIN:VEVENT") == 1 and lines.count(b"END:VEVENT") == 1  # as lines: the text's are escaped
    data.decode("utf-8")  # no character was cut in two by the folding
    expected = title.replace("\r\n", "\n").replace("\x00", "").replace("\x07", "")
    assert str(event_of(data)["SUMMARY"]) == expected


def test_a_join_url_cannot_add_lines():
    data = ics(Webinar("W", NOW, 60, "https://x.example/a b\r\nATTENDEE:evil"), uid="u@x", now=NOW)
    event = event_of(data)
    assert "ATTENDEE" not in event
    assert str(event["URL"]) == "https://x.example/a%20b%0D%0AATTENDEE:evil"


def test_fold_keeps_short_lines_and_splits_long_ones_at_75_octets():
    assert fold("SUMMARY:short") == "SUMMARY:short"
    folded = fold("DESCRIPTION:" + "é" * 100)
    parts = folded.split("\r\n")
    assert all(len(part.encode()) <= 75 for part in parts) and all(p.startswith(" ") for p in parts[1:])
    assert "".join(p[1:] if i else p for i, p in enumerate(parts)) == "DESCRIPTION:" + "é" * 100


def test_a_webinar_without_a_start_has_no_calendar():
    with pytest.raises(ValueError):
        ics(Webinar("W", None), uid="u@x", now=NOW)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-10T16:00Z", datetime(2026, 12, 10, 16, 0, tzinfo=UTC)),
        ("2026-12-10T17:00+01:00", datetime(2026, 12, 10, 16, 0, tzinfo=UTC)),
        ("2026-12-10 16:00 UTC", datetime(2026, 12, 10, 16, 0, tzinfo=UTC)),  # what the demo form says
        ("2026-12-10 16:00", datetime(2026, 12, 10, 16, 0, tzinfo=UTC)),  # no offset: the default zone
        ("2027-03-04 17:00 Europe/Berlin", datetime(2027, 3, 4, 16, 0, tzinfo=UTC)),
        ("2027-07-04 17:00 CET", datetime(2027, 7, 4, 15, 0, tzinfo=UTC)),  # summer time
        ("2027-03-04 17:00 America/La_Paz", datetime(2027, 3, 4, 21, 0, tzinfo=UTC)),  # not "… Z"
    ],
)
def test_start_times_read(text, expected):
    assert parse_starts_at(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "next Tuesday", "10/12/2026 4pm", "2026-12-10T16:00+01:00 UTC", "2026-12-10 16:00 PST", "2026-12-10 ../x"],
)
def test_start_times_that_are_not_iso_are_refused(text):
    with pytest.raises(StartTimeError):
        parse_starts_at(text)


def test_a_stored_start_that_does_not_read_leaves_the_webinar_without_a_time():
    webinar = webinar_of("Form", {"webinar": {"title": "", "starts_at": "Dec 10th, 4pm", "join_url": "https://j"}})
    assert webinar == Webinar("Form", None, 60, "https://j")
    assert webinar_of("Form", {}) is None


def test_when_text_names_the_zone_it_was_given_in():
    assert when_text(parse_starts_at("2026-12-10T16:00Z")) == "Thursday 10 December 2026, 16:00 UTC"
    assert when_text(parse_starts_at("2026-12-10T17:30+05:30")) == "Thursday 10 December 2026, 17:30 UTC+05:30"
    assert when_text(parse_starts_at("2026-12-10T11:00-05:00")) == "Thursday 10 December 2026, 11:00 UTC-05:00"


# The editor's settings -------------------------------------------------------------------------


def webinar_input(**values) -> FormInput:
    fields = {"name": "Live", "slug": "live", "kind": "webinar", "webinar_title": "Live", **values}
    return FormInput(**fields)


def test_editor_stores_the_start_with_its_offset_and_takes_a_bare_time_in_the_admins_zone():
    settings = build_settings(webinar_input(webinar_starts_at="2026-12-10 17:00"), time_zone="Europe/Berlin")
    assert settings["webinar"]["starts_at"] == "2026-12-10T17:00+01:00"
    assert parse_starts_at(settings["webinar"]["starts_at"]) == datetime(
        2026, 12, 10, 17, 0, tzinfo=ZoneInfo("Europe/Berlin")
    )
    settings = build_settings(webinar_input(webinar_starts_at="2026-07-01T09:00-04:00", webinar_duration_minutes="90"))
    assert settings["webinar"] == {
        "title": "Live",
        "starts_at": "2026-07-01T09:00-04:00",
        "duration_minutes": 90,
        "join_url": "",
    }


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"webinar_starts_at": "next Tuesday"}, "webinar_starts_at"),
        ({"webinar_duration_minutes": "0"}, "webinar_duration_minutes"),
        ({"webinar_duration_minutes": "2h"}, "webinar_duration_minutes"),
        ({"webinar_join_url": "https://x.example/a\r\nb"}, "webinar_join_url"),
        ({"webinar_join_url": "javascript:alert(1)"}, "webinar_join_url"),
    ],
)
def test_editor_refuses_webinar_values_the_e_mail_and_calendar_cannot_use(values, field):
    with pytest.raises(FormSettingsError) as caught:
        build_settings(webinar_input(**values))
    assert field in caught.value.errors


def test_editor_keeps_the_e_mail_switch_subject_and_text():
    settings = build_settings(
        webinar_input(
            visitor_email=False, visitor_email_subject="  See you\r\n there ", visitor_email_body=" Hi!\n\nBye. "
        )
    )
    assert settings["visitor_email"] == {"enabled": False, "subject": "See you there", "body": "Hi!\n\nBye."}
    assert not sends_visitor_email("webinar", settings, smtp_url="smtp://mail")
    # A form saved before the switch existed keeps its kind's default: on for webinars and downloads.
    assert sends_visitor_email("webinar", {}, smtp_url="smtp://mail")
    assert sends_visitor_email("download", {}, smtp_url="smtp://mail")
    assert not sends_visitor_email("demo", {}, smtp_url="smtp://mail")
    assert not sends_visitor_email("webinar", {}, smtp_url="")  # production without SMTP_URL


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/static/demo/guide.pdf", "https://forms.example.com/static/demo/guide.pdf"),
        ("https://cdn.example.net/guide.pdf", "https://cdn.example.net/guide.pdf"),
        ("", ""),
    ],
)
def test_asset_links_are_made_absolute(url, expected):
    assert absolute_url(url, "https://forms.example.com") == expected


def test_thank_you_tokens_name_form_and_submission_and_survive_a_key_rotation():
    token = thanks_token("old key", form_id=3, submission_id=41)
    assert read_thanks_token("old key", token) == read_thanks_token("new key", token, fallbacks=["old key"])
    ref = read_thanks_token("old key", token)
    assert ref is not None and (ref.form_id, ref.submission_id) == (3, 41)
    assert read_thanks_token("new key", token) is None
    assert read_thanks_token("old key", token, max_age=-1) is None
    assert read_thanks_token("old key", "garbage") is None
