"""How likely two person records are one person, with reasons a coordinator can check.

Scoring
-------
``compare(a, b)`` adds up evidence as log-odds (Fellegi–Sunter style) and returns the logistic
of the sum as ``score`` in [0, 1], with one reason per piece of evidence:

* identifiers decide alone: the same valid PRC ID (or IIN) is 1.0 whatever the names; two
  different valid PRC IDs (or IINs) are 0.0, never the same person;
* names, role by role (``keys``): given name against given name, father's name against father's
  name. A patronymic or a Chinese ``given·father`` name gives a father's name; a Russian-style
  family name counts as a weaker one (it may come from a grandfather or a husband), and when both
  records have a real father's name, that decides. The same two names in the opposite order are
  father and son. A name whose order is not known (``Тоқтар Нұрлан``) is tried both ways, at a
  cost; brothers (same father, different given name) stay below the threshold on names alone;
* birth dates: partial dates compatible (overlapping) or not; a whole date agreeing is strong;
* sex: a difference is strong evidence against (sex comes from the record, else from the PRC ID
  or IIN, else from -ұлы/-қызы, -ов/-ова);
* hometown (county code, or the address code of a PRC ID): agreeing adds a little.

Birth date, sex and hometown missing on a record come from its PRC ID or IIN when it has one.

Blocking
--------
Comparing 10,000 new rows with 100,000 people pair by pair is 10⁹ comparisons. Instead each
person gets a few short ``blocking_keys`` and only people sharing a key are compared. The keys
use a consonant skeleton of each name part: the phonetic key without vowels, with sound-alike
consonants merged (r/l, k/g/q/h, s/ş/ç, j/z, b/p/f, d/t) — Chinese transcriptions drop and
insert vowels and blur those consonants, so the skeleton is what survives every script
(Серік s-r-k, 赛力克 s-l-k → srk). Keys per person:

* ``n:`` first 4 consonants of the given name + first 3 of the father's (or family) name, and
  ``m:`` 3 + 4 — a slip late in either part still leaves the other key shared. For names
  written without a Chinese transcription, also the skeleton without a syllable-closing r, l
  or n (Chinese drops them: 加娜古丽 for Жанаргүл);
* ``gd:`` 3 consonants of the given name + the whole birth date, and for a name without a
  father's name ``gy:`` the same with the birth year: a lone given name can only pass ``compare``
  with a birth date that agrees;
* ``prc:`` and ``iin:`` the identifiers.

A Chinese name written without a separator (叶尔江木卡西) gives an ``n:`` key for each place
the given name could end.

Names whose order is unknown give keys for both orders, Chinese parts for each distinct
skeleton their readings allow. A true duplicate that shares no key is one whose names differ
beyond what ``compare`` would accept anyway (``tests/matching/test_quality.py`` checks this on
the labelled set). On the demo name bank (``python -m benchmarks.matching``), 10,000 new rows
against 100,000 people give about 290,000 candidate pairs (29 per row) instead of 10⁹, and
every planted duplicate is among them.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from itertools import product

from casefile.core.partial_dates import PartialDate
from casefile.matching.keys import (
    FATHER,
    GIVEN,
    SURNAME,
    WHOLE,
    NameKeys,
    NamePart,
    joined,
    part_similarity,
    person_name_keys,
)
from casefile.people.identifiers import InvalidIdentifier, parse_iin, parse_prc_id

DEFAULT_THRESHOLD = 0.5

PRIOR = -5.0  # log-odds before any evidence: most pairs in a block are different people
_GIVEN_CURVE = ((1.0, 4.0), (0.95, 3.5), (0.9, 2.5), (0.85, 0.5), (0.8, -1.5), (0.75, -3.0), (0.65, -4.5), (0.0, -5.0))
_WEAK_FATHER_POSITIVE, _WEAK_FATHER_NEGATIVE = 0.7, 0.5
_ORDER_GUESSED, _ORDER_REVERSED = 1.0, 1.5
_GIVEN_ALONE = 0.8  # a given name with no father's name to compare: a name and a birth year are not enough
_SWAPPED = -7.0
_WHOLE_NAME = 1.8  # given and father's name read from one unseparated Chinese name: almost two parts
_AGREE, _CLOSE = 0.9, 0.85
_SAME_DAY, _SAME_MONTH, _SAME_YEAR = 3.5, 2.0, 1.0
_DAY_MONTH_SWAPPED, _SAME_YEAR_DIFFERENT_DAY, _ONE_YEAR_APART, _YEARS_APART = -1.0, -4.0, -4.5, -6.0
_YEAR_TYPO, _YEAR_ESTIMATE = -1.0, -2.0  # 1981-12-03 / 1982-12-03; "1981" remembered for 1982
_SEX_DIFFERS, _SEX_HINT_DIFFERS = -8.0, -6.0
_SAME_COUNTY, _SAME_PREFECTURE, _OTHER_PREFECTURE = 0.7, 0.3, -0.7
_SAME_BROKEN_ID = 4.0


@dataclass
class PersonFacts:
    """What a record says about a person, as far as matching is concerned.

    ``names`` are (text, script) pairs, script one of ``casefile.people.names.SCRIPTS`` or None;
    ``sex`` is "M", "F" or None; ``hometown_code`` a 6-digit administrative code.
    """

    names: list[tuple[str, str | None]]
    birth_date: PartialDate | None = None
    sex: str | None = None
    prc_id: str | None = None
    iin: str | None = None
    hometown_code: str | None = None


@dataclass
class Match:
    """The result of ``compare``: a score in [0, 1] and the reasons behind it, strongest first."""

    score: float
    reasons: list[str] = field(default_factory=list)


Entry = tuple[NamePart, NameKeys]  # a part and the written name it comes from (for the reasons)


@dataclass(frozen=True)
class Roles:
    """A person's name parts by role, one entry per distinct spelling, in one reading of word order."""

    givens: tuple[Entry, ...]
    fathers: tuple[Entry, ...]
    surnames: tuple[Entry, ...]
    wholes: tuple[Entry, ...]
    names: tuple[NameKeys, ...]
    flipped: bool

    @classmethod
    def of(cls, names: Sequence[NameKeys], flipped: bool = False) -> Roles:
        tables: dict[str, dict[str, Entry]] = {GIVEN: {}, FATHER: {}, SURNAME: {}, WHOLE: {}}
        for name in names:
            for part in name.parts:
                if part.role in tables:
                    tables[part.role].setdefault(part.signature, (part, name))
        return cls(*(tuple(tables[role].values()) for role in (GIVEN, FATHER, SURNAME, WHOLE)), tuple(names), flipped)


@dataclass(frozen=True)
class PreparedPerson:
    """A ``PersonFacts`` with its names taken apart and its identifiers checked (see ``prepare``).

    ``readings`` holds the person's name parts by role: one reading, or two (as written and
    turned round) when none of the person's names shows its word order.
    """

    names: tuple[NameKeys, ...]
    readings: tuple[Roles, ...]
    order_known: bool
    birth_date: PartialDate | None
    sex: str | None
    sex_from_names: bool
    prc_id: str | None
    prc_raw: str | None
    iin: str | None
    iin_raw: str | None
    hometown: str | None


def _flipped(name: NameKeys) -> NameKeys:
    """The name read the other way round: its first two words swap given and father roles."""
    swap = {GIVEN: FATHER, FATHER: GIVEN}
    parts = tuple(replace(p, role=swap.get(p.role, p.role)) for p in name.parts)
    return NameKeys(name.text, name.script, parts, name.order_known, name.sex)


def _reads_as_written(name: NameKeys, known: list[NameKeys]) -> bool:
    """Whether an order-unknown name fits the person's order-known names better as written."""
    first, second = name.part(GIVEN), name.part(FATHER)
    if first is not None and second is not None:
        givens = {n.given.phonetic for n in known if n.given}
        if first.phonetic in givens and second.phonetic not in givens:
            return True
        if second.phonetic in givens and first.phonetic not in givens:
            return False
    return _fits(name, known) >= _fits(_flipped(name), known)


def _fits(name: NameKeys, known: list[NameKeys]) -> float:
    """How well a name's given and father's parts agree with those of the person's other names."""
    given = father = 0.0
    for other in known:
        if name.given and other.given:
            given = max(given, part_similarity(name.given, other.given))
        theirs = other.father or other.surname
        if name.father and theirs:
            father = max(father, part_similarity(name.father, theirs))
    return given + father


def prepare(facts: PersonFacts) -> PreparedPerson:
    """Take the names apart, check the identifiers and fill birth date, sex and hometown from them.

    A name whose order is not known is turned round when the person's other, order-known
    names show it was written father first.
    """
    names = [person_name_keys(text, script) for text, script in facts.names if text]
    names = [n for n in names if n.parts]
    known = [n for n in names if n.order_known]
    if known:
        names = [n if n.order_known or _reads_as_written(n, known) else _flipped(n) for n in names]
        readings: tuple[Roles, ...] = (Roles.of(names),)
    else:
        readings = (Roles.of(names), Roles.of([_flipped(n) for n in names], flipped=True))
    birth, sex, hometown = facts.birth_date, facts.sex if facts.sex in ("M", "F") else None, facts.hometown_code
    prc = iin = None
    if facts.prc_id:
        try:
            parsed = parse_prc_id(facts.prc_id)
        except InvalidIdentifier:
            pass
        else:
            prc = parsed.number
            birth = birth or PartialDate.from_date(parsed.birth_date)
            sex = sex or parsed.sex
            hometown = hometown or parsed.address_code
    if facts.iin:
        try:
            parsed_iin = parse_iin(facts.iin)
        except InvalidIdentifier:
            pass
        else:
            iin = parsed_iin.number
            birth = birth or PartialDate.from_date(parsed_iin.birth_date)
            sex = sex or parsed_iin.sex
    sex_from_names = False
    if sex is None:
        hints = {n.sex for n in names if n.sex}
        if len(hints) == 1:
            sex, sex_from_names = hints.pop(), True
    return PreparedPerson(
        names=tuple(names), readings=readings, order_known=bool(known), birth_date=birth, sex=sex,
        sex_from_names=sex_from_names, prc_id=prc, prc_raw=_compact(facts.prc_id), iin=iin,
        iin_raw=_compact(facts.iin), hometown=(hometown or "").strip() or None,
    )


def _compact(text: str | None) -> str | None:
    """An identifier as typed, without spaces or dashes, for comparing numbers that fail their check."""
    compact = "".join(ch for ch in text or "" if ch.isalnum()).upper()
    return compact or None


# -- names -------------------------------------------------------------------------------------


def _curve(similarity: float) -> float:
    for (s_hi, w_hi), (s_lo, w_lo) in zip(_GIVEN_CURVE, _GIVEN_CURVE[1:]):
        if similarity >= s_lo:
            return w_lo + (w_hi - w_lo) * (similarity - s_lo) / (s_hi - s_lo)
    return _GIVEN_CURVE[-1][1]


def _father_weight(similarity: float, weak: bool) -> float:
    weight = _curve(similarity)
    if weak:
        weight *= _WEAK_FATHER_POSITIVE if weight > 0 else _WEAK_FATHER_NEGATIVE
    return weight


def _best(xs: Sequence[Entry], ys: Sequence[Entry]) -> tuple[float, NameKeys | None, NameKeys | None]:
    best: tuple[float, NameKeys | None, NameKeys | None] = (-1.0, None, None)
    for pa, na in xs:
        for pb, nb in ys:
            s = part_similarity(pa, pb)
            if s > best[0]:
                best = (s, na, nb)
                if s == 1.0:
                    return best
    return best


def _both(name_a: NameKeys | None, name_b: NameKeys | None) -> str:
    if name_a is None or name_b is None:
        return ""
    return f"{name_a.text} ≈ {name_b.text}"


def _across(name_a: NameKeys | None, name_b: NameKeys | None) -> str:
    if name_a is None or name_b is None or name_a.script == name_b.script:
        return ""
    return " across scripts"


def _roles_weight(a: Roles, b: Roles) -> tuple[float, list[str], bool]:
    """Name evidence between two persons, each in one reading of word order.

    Returns the weight, the reason, and whether fathers' names were compared (only then can
    the word order of a name matter).
    """
    given = _best(a.givens, b.givens)
    if given[1] is None:
        return (*_whole_weight(a, b), False)
    fathers_a, fathers_b = a.fathers, b.fathers
    weak = not (fathers_a and fathers_b)
    if weak:
        fathers_a, fathers_b = fathers_a + a.surnames, fathers_b + b.surnames
    father = _best(fathers_a, fathers_b)
    weight = _curve(given[0])
    pair = _both(given[1], given[2])
    if father[1] is None:
        if given[0] >= _AGREE:
            reason = f"given names agree{_across(given[1], given[2])}, no father's name to compare: {pair}"
        else:
            reason = f"given names differ: {pair.replace('≈', '/')}"
        return weight * _GIVEN_ALONE, [reason], False
    weight += _father_weight(father[0], weak)
    if not weak and given[0] < _CLOSE:
        son_of_other = _best(a.givens, fathers_b)[0] >= _AGREE and _best(fathers_a, b.givens)[0] >= _AGREE
        if son_of_other:
            return _SWAPPED, [f"the same names in the opposite order (father and son?): {pair.replace('≈', '/')}"], True
    shown = father if given[1] is father[1] and given[2] is father[2] else given
    names = _both(shown[1], shown[2])
    family = " (a family name read as the father's name)" if weak else ""
    if given[0] >= _AGREE and father[0] >= _AGREE:
        reason = f"names agree{_across(shown[1], shown[2])}{family}: {names}"
    elif given[0] >= _CLOSE and father[0] >= _CLOSE:
        reason = f"names are close{_across(shown[1], shown[2])}{family}: {names.replace('≈', '~')}"
    elif given[0] >= _CLOSE:
        reason = f"given names agree but fathers' names differ: {_both(father[1], father[2]).replace('≈', '/')}"
    elif father[0] >= _CLOSE:
        reason = f"fathers' names agree but given names differ (brothers or sisters?): {pair.replace('≈', '/')}"
    else:
        reason = f"names differ: {pair.replace('≈', '/')}"
    return weight, [reason], True


def _whole_weight(a: Roles, b: Roles) -> tuple[float, list[str]]:
    """A Chinese name written without a separator, against given + father of the other side."""
    best: tuple[float, NameKeys | None, NameKeys | None] = _best(a.wholes, b.wholes)
    for x, y in ((a, b), (b, a)):
        for pa, na in x.wholes:
            for nb in y.names:
                given, father = nb.given, nb.father or nb.surname
                if given is not None and father is not None and given.role != WHOLE:
                    s = part_similarity(pa, joined([given, father]))
                    if s > best[0]:
                        best = (s, na, nb) if x is a else (s, nb, na)
    if best[1] is None:
        return 0.0, []
    # A letter in a whole name weighs what it would in one of its two parts (努尔兰/努尔江 are brothers).
    similarity = max(0.0, 1.0 - 2 * (1.0 - best[0]))
    verb = "agree" if similarity >= _AGREE else "differ"
    reason = f"names {verb} (one written without a separator): {_both(best[1], best[2])}"
    return _curve(similarity) * _WHOLE_NAME, [reason if verb == "agree" else reason.replace("≈", "/")]


def _name_weight(a: PreparedPerson, b: PreparedPerson) -> tuple[float, list[str]]:
    best: tuple[float, list[str]] | None = None
    for roles_a in a.readings:
        for roles_b in b.readings:
            weight, reasons, order_matters = _roles_weight(roles_a, roles_b)
            if not (a.order_known and b.order_known) and order_matters and weight > 0:
                weight -= _ORDER_REVERSED if roles_a.flipped or roles_b.flipped else _ORDER_GUESSED
                flipped = roles_a if roles_a.flipped else roles_b if roles_b.flipped else None
                if flipped:
                    reasons = [f"{reasons[0]} (reading {flipped.names[0].text} father's name first)"]
                else:
                    reasons = [f"{reasons[0]} (word order not certain)"]
            if best is None or weight > best[0]:
                best = (weight, reasons)
    return best if best is not None else (0.0, [])


# -- dates, sex, places, identifiers -----------------------------------------------------------


def _birth_weight(a: PartialDate | None, b: PartialDate | None) -> tuple[float, list[str]]:
    if a is None or b is None:
        return 0.0, []
    if a.earliest() <= b.latest() and b.earliest() <= a.latest():
        if a.precision == b.precision == "day":
            return _SAME_DAY, [f"same birth date ({a})"]
        coarse = "year" if "year" in (a.precision, b.precision) else "month"
        shown = f"({a})" if a == b else f"({a}, {b})"
        return (_SAME_YEAR if coarse == "year" else _SAME_MONTH), [f"birth dates agree as far as known {shown}"]
    if a.year != b.year:
        if abs(a.year - b.year) > 1:
            return _YEARS_APART, [f"birth years differ ({a.year}, {b.year})"]
        if a.precision == b.precision == "day" and (a.month, a.day) == (b.month, b.day):
            return _YEAR_TYPO, [f"same day and month, birth years one apart (a typo?) ({a}, {b})"]
        if "year" in (a.precision, b.precision):
            return _YEAR_ESTIMATE, [f"birth years one apart, one known only to the year ({a}, {b})"]
        return _ONE_YEAR_APART, [f"birth years differ ({a.year}, {b.year})"]
    if a.precision == b.precision == "day" and (a.month, a.day) == (b.day, b.month):
        return _DAY_MONTH_SWAPPED, [f"birth dates differ, day and month swapped? ({a}, {b})"]
    return _SAME_YEAR_DIFFERENT_DAY, [f"birth dates differ ({a}, {b})"]


def _hometown_weight(a: str | None, b: str | None) -> tuple[float, list[str]]:
    if not a or not b:
        return 0.0, []
    if a == b:
        return _SAME_COUNTY, [f"same hometown ({a})"]
    if a[:4] == b[:4]:
        return _SAME_PREFECTURE, [f"hometowns in the same prefecture ({a}, {b})"]
    return _OTHER_PREFECTURE, [f"different hometowns ({a}, {b})"]


def compare(a: PersonFacts | PreparedPerson, b: PersonFacts | PreparedPerson) -> Match:
    """How likely ``a`` and ``b`` are one person: a score in [0, 1] and checkable reasons.

    Pass ``prepare()``d people when comparing one person many times.
    """
    pa = a if isinstance(a, PreparedPerson) else prepare(a)
    pb = b if isinstance(b, PreparedPerson) else prepare(b)
    if pa.prc_id and pb.prc_id:
        if pa.prc_id == pb.prc_id:
            extra = [f"different IINs ({pa.iin}, {pb.iin}): check"] if pa.iin and pb.iin and pa.iin != pb.iin else []
            return Match(1.0, ["same PRC ID", *extra])
        return Match(0.0, [f"different PRC IDs ({pa.prc_id}, {pb.prc_id})"])
    if pa.iin and pb.iin:
        if pa.iin == pb.iin:
            return Match(1.0, ["same IIN"])
        return Match(0.0, [f"different IINs ({pa.iin}, {pb.iin})"])
    evidence = [_name_weight(pa, pb), _birth_weight(pa.birth_date, pb.birth_date),
                _hometown_weight(pa.hometown, pb.hometown)]
    for raw_a, raw_b, label in ((pa.prc_raw, pb.prc_raw, "PRC ID"), (pa.iin_raw, pb.iin_raw, "IIN")):
        if raw_a and raw_a == raw_b:  # the same number, though it fails its check: typed from one paper
            evidence.append((_SAME_BROKEN_ID, [f"same {label}, though it fails its check digit"]))
    if pa.sex and pb.sex and pa.sex != pb.sex:
        weight = _SEX_HINT_DIFFERS if pa.sex_from_names or pb.sex_from_names else _SEX_DIFFERS
        evidence.append((weight, [f"sexes differ ({pa.sex}, {pb.sex})"]))
    total = PRIOR + sum(weight for weight, _ in evidence)
    evidence.sort(key=lambda e: -abs(e[0]))
    return Match(round(1.0 / (1.0 + math.exp(-total)), 4), [r for _, found in evidence for r in found])


# -- blocking ----------------------------------------------------------------------------------

_SKELETON = str.maketrans({"l": "r", "g": "k", "ş": "s", "ç": "s", "c": "s", "z": "j", "b": "p", "f": "p", "d": "t"})
_MAX_ALTERNATIVES = 8
_CLOSING_LIQUID = re.compile(r"(?<=[aeiu])[rln](?=[^aeiu])")


def _skeleton(phonetic: str) -> str:
    return "".join(ch for ch in phonetic.translate(_SKELETON) if ch not in "aeiu")


def skeletons(part: NamePart, length: int = 3) -> frozenset[str]:
    """The consonant skeletons (first ``length`` consonants) a part's spellings allow."""
    cache_key = (part.signature, length)
    found = _SKELETONS.get(cache_key)
    if found is None:
        if len(_SKELETONS) > 200_000:
            _SKELETONS.clear()
        found = _SKELETONS[cache_key] = _skeletons(part, length)
    return found


_SKELETONS: dict[tuple[str, int], frozenset[str]] = {}


def _skeletons(part: NamePart, length: int) -> frozenset[str]:
    spellings = (part.phonetic, *part.variants)
    if not part.lattice:  # as a Chinese transcription may write it: 加娜古丽 for Жанаргүл
        spellings += tuple(_CLOSING_LIQUID.sub("", s) for s in spellings)
    found = {_skeleton(spelling)[:length] for spelling in spellings}
    if part.lattice:
        options = [sorted({_skeleton(r) for r in readings}) for readings in part.lattice]
        paths = {""}
        for choices in options:
            paths = {(p + c)[:length] for p, c in product(paths, choices)}
            if len(paths) > _MAX_ALTERNATIVES:
                break
        else:
            found |= paths
    return frozenset(s for s in found if s)


def blocking_keys(facts: PersonFacts | PreparedPerson) -> set[str]:
    """Short keys such that two records of one person share at least one (see the module docstring)."""
    person = facts if isinstance(facts, PreparedPerson) else prepare(facts)
    keys: set[str] = set()
    if person.prc_id:
        keys.add(f"prc:{person.prc_id}")
    if person.iin:
        keys.add(f"iin:{person.iin}")
    year = person.birth_date.year if person.birth_date else None
    day = person.birth_date.isoformat() if person.birth_date and person.birth_date.precision == "day" else None
    for roles in person.readings:
        for part, _ in roles.wholes:  # 叶尔江木卡西: the given name ends at one of the consonants
            for whole in skeletons(part, 12):
                keys |= {f"n:{whole[:i][:4]}/{whole[i:][:3]}" for i in range(1, len(whole))}
        for name in roles.names:
            given, father = name.given, name.father or name.surname
            given_long = skeletons(given, 4) if given else frozenset()
            if day:
                keys |= {f"gd:{g[:3]}/{day}" for g in given_long}
            if father is None:
                if year:
                    keys |= {f"gy:{g[:3]}/{year}" for g in given_long}
                continue
            father_long = skeletons(father, 4)
            keys |= {f"n:{g}/{f[:3]}" for g in given_long for f in father_long}
            keys |= {f"m:{g[:3]}/{f}" for g in given_long for f in father_long}
    return keys


def candidate_pairs(
    new: Sequence[PersonFacts | PreparedPerson],
    existing: Sequence[PersonFacts | PreparedPerson] | None = None,
) -> set[tuple[int, int]]:
    """Index pairs sharing a blocking key: (i, j) with i < j within ``new``, or (new i, existing j)."""
    new_keys = [blocking_keys(person) for person in new]
    index: dict[str, list[int]] = defaultdict(list)
    for j, keys in enumerate(new_keys if existing is None else map(blocking_keys, existing)):
        for key in keys:
            index[key].append(j)
    pairs: set[tuple[int, int]] = set()
    for i, keys in enumerate(new_keys):
        for key in keys:
            for j in index.get(key, ()):
                if existing is not None or i < j:
                    pairs.add((i, j))
    return pairs
