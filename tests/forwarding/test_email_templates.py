"""The lead e-mail's HTML alternative, rendered from `email/lead.html` without Flask: every value escaped."""

from __future__ import annotations

import pytest

from app.forwarding.adapters.email import html_body
from app.forwarding.destinations import SAMPLE

SCRIPT = "<script>alert(1)</script>"


@pytest.mark.parametrize("field", ["first_name", "last_name", "company", "message"])
def test_a_script_in_a_lead_field_is_escaped_in_the_html(field):
    html = html_body({**SAMPLE, field: SCRIPT})
    assert "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_html_has_the_headline_details_message_and_feedback_link():
    html = html_body(
        {
            **SAMPLE,
            "company": 'Initech & "Sons"',
            "message": "Hello <b>team</b>,\nwe need this by Q3.",
            "feedback_url": "https://leads.example.com/feedback/abc.def?a=1&b=2",
        }
    )
    assert html.startswith("<!doctype html><html><head><style>") and html.endswith("</body></html>\n")
    assert '<h2 style="font-size:18px">SQL lead: Test Lead (Initech &amp; &#34;Sons&#34;)</h2>' in html
    assert "<tr><th>Company</th><td>Initech &amp; &#34;Sons&#34;</td></tr>" in html
    assert '<p style="white-space:pre-wrap">Hello &lt;b&gt;team&lt;/b&gt;,\nwe need this by Q3.</p>' in html
    assert '<p><a href="https://leads.example.com/feedback/abc.def?a=1&amp;b=2">' in html


@pytest.mark.parametrize("url", ["javascript:alert(1)", 'https://x.example/"onmouseover=alert(1)', ""])
def test_only_a_plain_web_address_becomes_the_feedback_link(url):
    html = html_body({**SAMPLE, "message": "", "feedback_url": url})
    assert "<a " not in html and "Message</h3>" not in html
