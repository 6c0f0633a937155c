"""A small spam model learned from this installation's own decisions, on top of a bundled seed corpus.

Text (message, company, job title; never names or the address, which other checks weigh) is folded
and cut into words, word stems (first letters), word pairs, link hosts, and character pairs for scripts
written without spaces. Each token is hashed into a 32-bit feature, so stored examples and the model
name no words: the evidence names tokens from the candidate's own text. The model is naive Bayes on
whether each feature is present (counted once per example), which on the seed corpus ranks spam better
than multinomial counts of words alone or SpamBayes' chi-squared combining (bench/screening_quality_learned.py).
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType
from typing import TYPE_CHECKING

from screening.model import Candidate, Finding
from screening.textnorm import fold

if TYPE_CHECKING:
    from screening.context import Context

SPAM, HAM = "spam", "ham"
# Bump when tokens change: stored examples of another version no longer match and are left out.
FEATURES_VERSION = 1
FIELDS = ("message", "company", "job_title")
ALPHA = 1.0  # Laplace smoothing: every feature counts as seen once more in each class
STEM = 5  # words of more letters also count by their first letters ("kredite", "kredit" -> "kredi…")
TOP_TOKENS = 4
LINK = re.compile(r"(?:https?://|www\.)([^\s/?#<>\"']+)\S*")
# Han, kana and Thai runs become character pairs; other letter runs are words.
UNSPACED = "\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
WORD = re.compile(rf"[{UNSPACED}]+|[^\W\d_{UNSPACED}]{{2,}}")
UNSPACED_RUN = re.compile(rf"[{UNSPACED}]")
LINK_TOKEN = "(a link)"


@dataclass(frozen=True)
class ModelState:
    """Per feature (spam examples, ham examples); totals with the seed, and this installation's alone."""

    counts: Mapping[int, tuple[int, int]]
    spam: int = 0
    ham: int = 0
    local_spam: int = 0
    local_ham: int = 0
    min_examples: int = 30  # of each class, from this installation's decisions, before any finding
    threshold: float = 0.95

    @property
    def ready(self) -> bool:
        """Whether enough real decisions of each class were learned for the model to speak."""
        return min(self.local_spam, self.local_ham) >= self.min_examples


def tokens(candidate: Candidate) -> dict[int, tuple[str, frozenset[str]]]:
    """Feature -> (the token as reviewers read it, the words it covers), each token once."""
    found: dict[int, tuple[str, frozenset[str]]] = {}

    def add(token: str, *words: str, shown: str = "") -> None:
        found.setdefault(feature(token), (shown or token, frozenset(words or (token,))))

    for field in FIELDS:
        text = fold(getattr(candidate, field) or "")
        for host in LINK.findall(text):
            add(LINK_TOKEN)
            add(host.rsplit("@", 1)[-1].split(":")[0].removeprefix("www.").strip("."))
        words = WORD.findall(LINK.sub(" ", text))
        for i, word in enumerate(words):
            if UNSPACED_RUN.match(word):
                for j in range(max(1, len(word) - 1)):
                    add(word[j : j + 2])
                continue
            add(word)
            if len(word) > STEM:
                add(word[:STEM] + "…", word, shown=word)
            if i + 1 < len(words) and not UNSPACED_RUN.match(words[i + 1]):
                add(f"{word} {words[i + 1]}", word, words[i + 1])
    return found


def feature(token: str) -> int:
    """A stable 32-bit hash of a token (Python's hash() differs per process)."""
    digest = hashlib.blake2b(f"{FEATURES_VERSION}:{token}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big")


def features(candidate: Candidate) -> list[int]:
    """The candidate's features, sorted: what an example stores."""
    return sorted(tokens(candidate))


class Trainer:
    """Counts examples in place (the worker adds new decisions as they come); `state()` freezes a copy."""

    def __init__(self) -> None:
        self.counts: dict[int, list[int]] = {}
        self.totals = {SPAM: 0, HAM: 0}
        self.local = {SPAM: 0, HAM: 0}

    def add(self, features: Iterable[int], label: str, *, seed: bool = False) -> None:
        """Learn one example; `seed` examples shape the model but do not open the minimum-examples gate."""
        column = 0 if label == SPAM else 1
        for f in set(features):
            self.counts.setdefault(f, [0, 0])[column] += 1
        self.totals[label] += 1
        if not seed:
            self.local[label] += 1

    def copy(self) -> Trainer:
        """An independent trainer with the same counts."""
        other = Trainer()
        other.counts = {f: list(c) for f, c in self.counts.items()}
        other.totals, other.local = dict(self.totals), dict(self.local)
        return other

    def state(self, *, min_examples: int = 30, threshold: float = 0.95) -> ModelState:
        """A frozen snapshot to hand to screening."""
        return ModelState(
            MappingProxyType({f: (c[0], c[1]) for f, c in self.counts.items()}),
            self.totals[SPAM],
            self.totals[HAM],
            self.local[SPAM],
            self.local[HAM],
            min_examples,
            threshold,
        )


def weight_of(state: ModelState, spam: int, ham: int) -> float:
    """How much a feature's presence says for spam (> 0) or ham (< 0): the log ratio of the shares of
    spam and ham examples that had it, each smoothed by one example (Laplace)."""
    spam_share = (spam + ALPHA) / (state.spam + 2 * ALPHA)
    ham_share = (ham + ALPHA) / (state.ham + 2 * ALPHA)
    return math.log(spam_share / ham_share)


def score(state: ModelState, candidate: Candidate) -> tuple[float, tuple[str, ...]]:
    """The spam probability of a candidate (0.5: nothing known) and the tokens that drove it, strongest first.

    Classes count as equally likely beforehand: how many of each the reviewers happened to decide says
    nothing about the next message."""
    total, clues = 0.0, []
    for f, (name, words) in tokens(candidate).items():
        spam, ham = state.counts.get(f, (0, 0))
        if spam + ham:
            weight = weight_of(state, spam, ham)
            total += weight
            clues.append((weight, name, words))
    if not clues:
        return 0.5, ()
    p = 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, total))))
    sign = 1.0 if p >= 0.5 else -1.0
    clues.sort(key=lambda clue: -sign * clue[0])
    named: list[str] = []
    used: set[str] = set()
    for weight, name, words in clues:  # a word, its stem and a pair with it name one clue, not three
        if sign * weight <= 0 or len(named) == TOP_TOKENS:
            break
        if not words & used:
            named.append(name)
        used |= words
    return p, tuple(named)


@functools.cache
def seed_examples() -> tuple[tuple[str, str], ...]:
    """The bundled seed corpus (screening/data/seed_corpus.tsv: label<TAB>text), see SOURCES.md."""
    text = resources.files("screening.data").joinpath("seed_corpus.tsv").read_text(encoding="utf-8")
    rows = (line.split("\t", 1) for line in text.splitlines() if line.strip() and not line.startswith("#"))
    return tuple((label, body) for label, body in rows if label in (SPAM, HAM))


@functools.cache
def seed_trainer() -> Trainer:
    """A trainer that has learned the seed corpus (built once per process; copy it before adding)."""
    trainer = Trainer()
    for label, text in seed_examples():
        trainer.add(features(Candidate(email="", message=text)), label, seed=True)
    return trainer


def check_learned(candidate: Candidate, context: Context) -> Iterable[Finding]:
    """Spam as this installation's reviewers and sales decided it, once they decided enough of each kind.

    At the threshold the weight is the policy's hold mark (a person looks); at certainty it stays
    below the reject mark, so the model alone never rejects, but with another spam finding it may.
    """
    state = context.learned
    if state is None or not state.ready:
        return
    p, top = score(state, candidate)
    if p < state.threshold or not top:
        return
    low, high = context.policy.hold_at, max(context.policy.hold_at, context.policy.reject_at - 20)
    confidence = (p - state.threshold) / (1.0 - state.threshold) if state.threshold < 1 else 1.0
    decisions = state.local_spam + state.local_ham
    named = ", ".join(repr(t) for t in top)
    yield Finding(
        "spam.learned",
        "spam",
        round(low + (high - low) * min(confidence, 1.0)),
        f"learned from {decisions} decisions here: {named} point to spam (p={min(p, 0.99):.2f})",
    )
