"""The registry of named checks.

A check is a function `(candidate, context) -> Iterable[Finding]`. Adding a check
is adding one function and one line in `CHECKS`. They run in this order; the
DNS look-ups come last so the cheap checks never wait on the network.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from screening import (
    check_challenge,
    check_content,
    check_domain,
    check_email,
    check_people,
    check_reputation,
    disposable,
    learned,
)
from screening.context import Context
from screening.model import Candidate, Finding

Check = Callable[[Candidate, Context], Iterable[Finding]]

CHECKS: dict[str, Check] = {
    # e-mail address
    "email.syntax": check_email.check_syntax,
    "email.local_part": check_email.check_local_part,
    "email.typo": check_email.check_typo,
    "email.disposable": check_email.check_disposable,
    "email.freemail": check_email.check_freemail,
    "email.role": check_email.check_role,
    # lists kept by admins
    "list.allowed": check_reputation.check_allowlist,
    "list.blocked": check_reputation.check_blocklist,
    "list.competitor": check_domain.check_competitor,
    # who is asking
    "people.academic_domain": check_domain.check_academic_domain,
    "people.student": check_people.check_student,
    "people.job_seeker": check_people.check_job_seeker,
    "people.vendor": check_people.check_vendor,
    # spam content and capture-time signals
    "capture.signals": check_content.check_capture_signals,
    "content.links": check_content.check_links_in_fields,
    "content.message": check_content.check_message,
    "content.phrases": check_content.check_phrases,
    "content.gibberish": check_content.check_gibberish_names,
    "content.gibberish_text": check_content.check_gibberish_text,
    "content.identical": check_content.check_identical_fields,
    "content.script": check_content.check_script_mismatch,
    "content.length": check_content.check_lengths,
    "content.learned": learned.check_learned,
    "challenge": check_challenge.check_challenge,
    "akismet": check_challenge.check_akismet,
    # activity and network
    "velocity": check_reputation.check_velocity,
    "dns.mail": check_domain.check_mail_dns,
    "dns.disposable_mx": disposable.check_disposable_mx,
    "dns.blocklists": check_reputation.check_dnsbl,
}
