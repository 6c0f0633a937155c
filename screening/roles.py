"""Role addresses: is the part before the @ a shared mailbox (sales2@, info-de@, ventas23@) or a person?

A local part is split on digits and separators, and each piece must be a role word or a qualifier
(screening/data/roles.txt, role_qualifiers.txt); a piece may also be role words and glue qualifiers
written together (salesteam, contactus, infouk). One personal piece is enough to say "a person":
`sales.anna`, `marketa.novak`, `salesky` and `infante` are people, never role accounts.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources

from screening.textnorm import fold

# Digits and the separators people put in mailbox names; "+tag" is cut off before this.
SEPARATORS = re.compile(r"[\d._\-=~']+")
# A Latin role word glued to others (salesteam) must be this long: hr, it, all glued into a word are
# names (hrvoje, alles). Chinese and Japanese role words are two characters and glue freely (営業部).
MIN_GLUED_ROLE = 4


@dataclass(frozen=True)
class Vocabulary:
    """Role words (with their language) and qualifiers, folded once per process."""

    roles: dict[str, str]  # folded word -> language
    glue: frozenset[str]
    parts: frozenset[str]


def _rows(name: str) -> list[tuple[str, str]]:
    text = resources.files("screening.data").joinpath(name).read_text(encoding="utf-8")
    rows = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        label, _, word = line.partition("\t")
        rows.append((label.strip(), fold(word.strip())))
    return rows


@functools.cache
def vocabulary() -> Vocabulary:
    """The bundled role vocabulary (loaded once; the worker preloads it)."""
    roles: dict[str, str] = {}
    for lang, word in _rows("roles.txt"):
        roles.setdefault(SEPARATORS.sub("", word), lang)
    qualifiers = _rows("role_qualifiers.txt")
    glue = frozenset(w for kind, w in qualifiers if kind == "glue")
    parts = frozenset(w for kind, w in qualifiers if kind == "part") | glue
    return Vocabulary(roles, glue, parts)


def _glued(piece: str, vocab: Vocabulary) -> list[str] | None:
    """`piece` cut into role words and glue qualifiers (salesteam -> [sales, team]), or None."""
    best: list[list[str] | None] = [None] * (len(piece) + 1)
    best[0] = []
    for end in range(1, len(piece) + 1):
        for start in range(end):
            before = best[start]
            word = piece[start:end]
            if before is None:
                continue
            if (word in vocab.roles and (len(word) >= MIN_GLUED_ROLE or not word.isascii())) or word in vocab.glue:
                best[end] = [*before, word]
                break
    return best[len(piece)]


@dataclass(frozen=True)
class Role:
    """Why a local part is a role address: the role word and the language it comes from."""

    word: str
    lang: str


def role_of(local: str) -> Role | None:
    """The role word that makes `local` a shared mailbox, or None when it names (or may name) a person."""
    vocab = vocabulary()
    text = fold(local).split("+", 1)[0]
    compact = SEPARATORS.sub("", text)
    if compact in vocab.roles:  # no-reply, do.not.reply, sales2, n.a.o-responda
        return Role(compact, vocab.roles[compact])
    pieces = [p for p in SEPARATORS.split(text) if p]
    roles: list[str] = []
    for piece in pieces:
        if piece in vocab.roles:
            roles.append(piece)
        elif piece in vocab.parts:
            continue
        else:
            words = _glued(piece, vocab)
            if words is None:
                return None  # a personal piece: anna, novak, salesky
            # Glued, only a long role word counts: be+no+it (benoit) and br+it (brit) are names.
            roles.extend(w for w in words if w in vocab.roles and (len(w) >= MIN_GLUED_ROLE or not w.isascii()))
    if not roles:
        return None
    return Role(roles[0], vocab.roles[roles[0]])
