"""Where a submission came from, as destinations get it (payload key `attribution`).

Read from what capture already stored: the UTM and URL columns, and from the raw post the click ids,
the host page's title and HubSpot's `hutk` cookie value (which embed.js posts from the host page).
The visitor's IP is included because HubSpot's `context.ipAddress` needs it; erasure clears
delivery payloads with the submission.
"""

from __future__ import annotations

import re
from typing import Any

from app.models import Submission

CLICK_IDS = ("gclid", "fbclid", "li_fat_id", "msclkid", "ttclid", "wbraid", "gbraid")
HUTK = re.compile(r"[0-9a-f]{32}")  # HubSpot's visitor cookie is 32 hex digits; anything else is dropped


def _raw_text(raw: dict[str, Any], name: str, limit: int) -> str:
    value = raw.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def attribution_payload(submission: Submission) -> dict[str, Any]:
    """{"attribution": {utm_*, referrer, page_url, page_title, click_ids, hutk, ip_address}}."""
    raw = submission.raw or {}
    hutk = _raw_text(raw, "hutk", 64).lower()
    return {
        "attribution": {
            "utm_source": submission.utm_source,
            "utm_medium": submission.utm_medium,
            "utm_campaign": submission.utm_campaign,
            "utm_term": submission.utm_term,
            "utm_content": submission.utm_content,
            "referrer": submission.referrer,
            "page_url": submission.page_url,
            "page_title": _raw_text(raw, "page_title", 200),
            "click_ids": {name: value for name in CLICK_IDS if (value := _raw_text(raw, name, 200))},
            "hutk": hutk if HUTK.fullmatch(hutk) else "",
            "ip_address": submission.ip or "",
        }
    }
