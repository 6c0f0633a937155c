"""Who is asking: students vs academic staff, job seekers, vendors (from title, company, message)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from screening.context import Context
from screening.model import Candidate, Finding

# Students, in the languages our visitors write in (en, de, fr, es, pt, it, nl, pl, sv, tr, ru, zh, ja, ko).
STUDENT_WORDS = re.compile(
    r"\b(student|students|undergrad(uate)?|grad student|graduate student|postgrad(uate)? student|"
    r"ph\.?\s?d\.? (student|candidate)|(?<!post-)(?<!post )doctoral (student|candidate|researcher)|"
    r"master'?s student|"
    r"msc student|mba student|bachelor student|freshman|sophomore|pupil|"
    r"studentin|studierende[rn]?|werkstudent(in)?|doktorand(in)?|masterand(in)?|"
    r"[ée]tudiante?|doctorante?|[ée]l[èe]ve|"
    r"estudiante|alumn[oa]|doctorand[oa]|"
    r"estudante|alun[oa]|doutorand[oa]|mestrand[oa]|"
    r"studente|studentessa|dottorand[oa]|laureand[oa]|"
    r"promovendus|studentka|doktorant(ka)?|"
    r"[öo]ğrenci|"
    r"студент(ка)?|аспирант(ка)?)\b"
    r"|学生|研究生|博士生|大学院生|대학생|학생",
    re.IGNORECASE,
)
# "Student" as what someone works on, not what they are: staff of student services, alumni relations,
# teachers of students. Blanked out before looking for student words.
STUDENT_SERVICES = re.compile(
    r"\b(student|students|student's|students'|alumn(a|ae|i|us|o|os|as)) "
    r"(affairs|services?|success|support|life|experience|engagement|recruitment|recruiting|relations|"
    r"admissions?|records|registry|advis(or|er|ing)|counsel(l)?(or|ing)|housing|accommodation|welfare|"
    r"well-?being|activities|development|enrol(l)?ment|retention|outreach|mobility|marketing|loans?|"
    r"finance|programs?|programmes?|journey|care)\b"
    r"|\b(of|for|to|with|teach(ing|es)?|supervis(e|es|ing|or|ion)|mentor(s|ing)?) (\w+ ){0,2}students\b"
    r"|\bvie [ée]tudiante\b",
    re.IGNORECASE,
)
STAFF_WORDS = re.compile(
    r"\b(professor|prof\.|assistant professor|associate professor|lecturer|senior lecturer|reader|"
    r"research(er| fellow| scientist| associate)|post-?doc(toral)?( researcher| fellow)?|"
    r"faculty|dean|provost|"
    r"professorin|dozent(in)?|wissenschaftliche[rn]? mitarbeiter(in)?|ma[îi]tre de conf[ée]rences|chercheur|"
    r"chercheuse|enseignant|profesora?|investigador[a]?|docente|professore(ssa)?|ricercatore|ricercatrice|"
    r"hoogleraar|onderzoeker|профессор|доцент|преподаватель)\b"
    r"|教授|准教授|講師|研究员|研究員|교수",
    re.IGNORECASE,
)
INSTITUTION_WORDS = re.compile(
    r"\b(university|universit[äa]t|universidad|universit[ée]|universit[àa]|universidade|universiteit|"
    r"uniwersytet|universitet|[üu]niversite(si)?|college|polytechnic|politecnico|hochschule|fachhochschule|"
    r"[ée]cole (normale|polytechnique|sup[ée]rieure)|institute of technology|school of|faculty of|"
    r"университет|институт)\b"
    r"|大学|大學|대학교",
    re.IGNORECASE,
)
JOB_SEEKER = re.compile(
    r"\b(job seeker|looking for (a )?(job|work|position|internship|employment)|seeking (a )?(job|employment|"
    r"position|internship)|open to work|unemployed|job application|apply(ing)? for (a|the|any) (job|position|"
    r"role|opening)|my (cv|resume|résumé)|attached (my )?(cv|resume))\b",
    re.IGNORECASE,
)
VENDOR = re.compile(
    r"\b(we (offer|provide|are an? (agency|company|team) (that|who|specializ))|"
    r"our (services|agency|team can)|"
    r"outsourc(e|ing) (your|partner)|offshore (team|development)|white[- ]label|"
    r"lead generation services|partnership proposal|business proposal|reseller opportunity|"
    r"would you be interested in (our|a) (service|partnership))\b",
    re.IGNORECASE,
)


def student_word(text: str) -> re.Match[str] | None:
    """The first student word in `text`, ignoring student-services phrases ("Student Affairs")."""
    blanked = STUDENT_SERVICES.sub(lambda m: " " * len(m.group(0)), text)
    return STUDENT_WORDS.search(blanked)


def check_student(candidate: Candidate, context: Context) -> Iterable[Finding]:
    """Student words in the job title (or message) vs academic staff words: say which fired.

    Student words win: a "PhD student and researcher" is a student. The company field is
    left out: "Student Loans Company" is a business, not a student.
    """
    title = candidate.job_title or ""
    student = student_word(title)
    if student:
        # Staff words outside the student phrase ("Doctoral researcher" is one phrase, not two).
        rest = title[: student.start()] + " " + title[student.end() :]
        staff = STAFF_WORDS.search(rest)
        beside = f"; student words win over {staff.group(0)!r}" if staff else ""
        yield Finding(
            "student.title",
            "student",
            60,
            f"job title says {student.group(0)!r}: a student (researching, rarely buying){beside}",
        )
    elif staff := STAFF_WORDS.search(title):
        yield Finding(
            "academic.staff",
            "academic",
            30,
            f"job title {title!r} is academic staff ({staff.group(0)!r}), not a student",
        )
    elif not title and (match := student_word(candidate.message or "")):
        yield Finding("student.message", "student", 30, f"the message mentions being a {match.group(0)!r}")
    company = INSTITUTION_WORDS.search(candidate.company or "")
    if company:
        yield Finding(
            "academic.company",
            "academic",
            30,
            f"company {candidate.company!r} is an academic institution ({company.group(0)!r})",
        )


def check_job_seeker(candidate: Candidate, context: Context) -> Iterable[Finding]:
    """Someone looking for a job, writing to the sales form."""
    for field_name in ("job_title", "message"):
        match = JOB_SEEKER.search(getattr(candidate, field_name) or "")
        if match:
            yield Finding(
                "job_seeker.text",
                "job_seeker",
                60,
                f"the {field_name.replace('_', ' ')} says {match.group(0)!r}: a job seeker, not a buyer",
            )
            return


def check_vendor(candidate: Candidate, context: Context) -> Iterable[Finding]:
    """A vendor pitching their services through our form."""
    match = VENDOR.search(candidate.message or "")
    if match:
        yield Finding("vendor.pitch", "vendor", 60, f"the message pitches services ({match.group(0)!r})")
