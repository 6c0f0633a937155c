"""Challenge providers a form may ask for: their widget, the field their token arrives in, and the origins
the page's Content-Security-Policy must allow for them (only on forms that use one).

Capture stores the posted token with the rest of the post (`Submission.raw`) and never calls out; the
worker verifies it (app/screening_context/challenges.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Provider:
    """One challenge provider as the public page and the worker need it."""

    name: str
    field: str  # the form field the widget fills with its token
    script: str  # the widget's script (reCAPTCHA's gets `?render=<site key>`)
    verify_setting: str  # the setting holding the siteverify URL
    csp: Mapping[str, tuple[str, ...]]  # directive -> sources the widget needs


PROVIDERS: Mapping[str, Provider] = {
    "turnstile": Provider(
        "Cloudflare Turnstile",
        "cf-turnstile-response",
        "https://challenges.cloudflare.com/turnstile/v0/api.js",
        "CHALLENGE_VERIFY_URL_TURNSTILE",
        {"script-src": ("https://challenges.cloudflare.com",), "frame-src": ("https://challenges.cloudflare.com",)},
    ),
    "hcaptcha": Provider(
        "hCaptcha",
        "h-captcha-response",
        "https://js.hcaptcha.com/1/api.js",
        "CHALLENGE_VERIFY_URL_HCAPTCHA",
        {
            "script-src": ("https://hcaptcha.com", "https://*.hcaptcha.com"),
            "frame-src": ("https://hcaptcha.com", "https://*.hcaptcha.com"),
            "style-src": ("https://hcaptcha.com", "https://*.hcaptcha.com"),
            "connect-src": ("https://hcaptcha.com", "https://*.hcaptcha.com"),
        },
    ),
    "recaptcha_v3": Provider(
        "reCAPTCHA v3",
        "g-recaptcha-response",
        "https://www.google.com/recaptcha/api.js",
        "CHALLENGE_VERIFY_URL_RECAPTCHA",
        {
            "script-src": ("https://www.google.com/recaptcha/", "https://www.gstatic.com/recaptcha/"),
            "frame-src": ("https://www.google.com/recaptcha/", "https://recaptcha.google.com/recaptcha/"),
        },
    ),
}


def provider_of(settings: Mapping[str, Any]) -> Provider | None:
    """The form's challenge provider, or None when it asks for none."""
    challenge = settings.get("challenge") or {}
    return PROVIDERS.get(str(challenge.get("provider") or ""))


def widget(settings: Mapping[str, Any]) -> dict[str, str] | None:
    """What the form template renders: provider key, script URL and the public site key (never the secret)."""
    provider = provider_of(settings)
    if provider is None:
        return None
    key = str(settings["challenge"].get("site_key", ""))
    script = provider.script + (f"?render={key}" if provider.field == "g-recaptcha-response" else "")
    return {"provider": str(settings["challenge"]["provider"]), "site_key": key, "script": script}


def with_provider(csp: str, settings: Mapping[str, Any]) -> str:
    """`csp` with the form's provider's origins added to the directives it needs (unchanged without one)."""
    provider = provider_of(settings)
    if provider is None:
        return csp
    directives = [part.strip() for part in csp.split(";") if part.strip()]
    names = [d.split()[0] for d in directives]
    for name, sources in provider.csp.items():
        if name in names:
            index = names.index(name)
            directives[index] = " ".join([directives[index], *sources])
        else:
            directives.append(" ".join([name, "'self'", *sources]))
            names.append(name)
    return "; ".join(directives)
