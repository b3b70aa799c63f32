"""Realistic fictional case records, shared by ``casefile demo`` and the benchmark data set."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date

from casefile.core.partial_dates import PartialDate
from casefile.demo.namebank import fictional_person
from casefile.people.identifiers import iin_check_digit, prc_check_character
from casefile.places.gazetteer import counties_of, get_place

DEMO_PREFECTURES = ("654000", "654300", "654200")  # Ili, Altay, Tacheng
STATUS_WEIGHTS = {
    "missing": 14, "camp": 18, "detention_centre": 8, "detained_unknown_place": 10, "sentenced": 22,
    "released_restricted": 9, "forced_labour": 5, "exit_barred": 5, "returned": 4, "deceased": 2, "unknown": 3,
}
REASONS = ("religious_practice", "relatives_abroad", "money_transfers", "travel_kazakhstan",
           "foreign_documents", "messaging_apps", "passport")
FACILITIES = ("Vocational skills education and training centre No. 3", "County detention centre",
              "Re-education camp near the county seat", "Prefecture prison", "Detention centre (看守所)")
OCCUPATIONS = ("herder", "farmer", "teacher", "imam", "driver", "trader", "doctor", "student", "pensioner",
               "accountant", "village official", "mechanic")
RELATIONS = ("mother", "father", "spouse", "son", "daughter", "brother", "sister", "other_relative")
NARRATIVES = (
    "Taken from home by county police after a visit to relatives in Kazakhstan. The family was told it was "
    "for 'study'. No word since the last phone call.",
    "Summoned to the village committee, then sent to a camp. Relatives learned of a sentence from a neighbour; "
    "no verdict was ever shown to the family.",
    "Passport confiscated on return from Almaty. Later detained; a short video call was allowed once, under watch.",
    "Detained for having WhatsApp on the phone and for money sent by a daughter in Kazakhstan.",
    "Held in a camp, then transferred. The family in Kazakhstan recorded a video testimony holding the ID card.",
)


@dataclass
class CaseRecord:
    """One fictional case: the person's fields, names and the case fields."""

    names: list[tuple[str, str, str]]
    sex: str
    birth_date: PartialDate
    prc_id: str | None
    iin: str | None
    hometown_code: str
    hometown_prefecture_code: str
    village: str
    occupation: str
    citizenship: str
    status: str
    verification_level: int
    detained_on: PartialDate | None
    last_contact_on: PartialDate | None
    detention_facility: str
    alleged_reasons: list[str]
    narrative: str
    restricted: bool
    reporters: list[dict[str, object]] = field(default_factory=list)


def _partial(rng: random.Random, year_from: int, year_to: int) -> PartialDate:
    year = rng.randint(year_from, year_to)
    precision = rng.random()
    if precision < 0.25:
        return PartialDate(year)
    month = rng.randint(1, 12)
    if precision < 0.6:
        return PartialDate(year, month)
    return PartialDate(year, month, rng.randint(1, 28))


def prc_id_for(rng: random.Random, address_code: str, born: date, sex: str) -> str:
    """A well-formed fictional PRC resident ID (check character computed)."""
    sequence = rng.randrange(1 if sex == "M" else 2, 999, 2)
    first17 = f"{address_code}{born:%Y%m%d}{sequence:03d}"
    return first17 + prc_check_character(first17)


def iin_for(rng: random.Random, born: date, sex: str) -> str:
    """A well-formed fictional Kazakhstan IIN (a serial whose check digit exists)."""
    century = {1800: 1, 1900: 3, 2000: 5}[born.year // 100 * 100] + (0 if sex == "M" else 1)
    while True:
        first11 = f"{born:%y%m%d}{century}{rng.randint(0, 9999):04d}"
        check = iin_check_digit(first11)
        if check is not None:
            return first11 + str(check)


def fictional_case(rng: random.Random, prefectures: tuple[str, ...] = DEMO_PREFECTURES) -> CaseRecord:
    """A plausible, entirely fictional case record."""
    person = fictional_person(rng)
    prefecture = rng.choice(prefectures)
    counties = counties_of(prefecture) or [get_place(prefecture)]
    county = rng.choice(counties)
    assert county is not None
    born = date(person.birth_year, rng.randint(1, 12), rng.randint(1, 28))
    birth = PartialDate(born.year, born.month, born.day) if rng.random() < 0.7 else PartialDate(born.year)
    citizenship = rng.choices(("prc_only", "residence_permit", "kandas", "kazakhstan", "dual_claim"),
                              weights=(50, 15, 10, 15, 10))[0]
    status = rng.choices(list(STATUS_WEIGHTS), weights=list(STATUS_WEIGHTS.values()))[0]
    detained = _partial(rng, 2017, 2020) if rng.random() < 0.9 else None
    last_contact = _partial(rng, 2017, 2024) if rng.random() < 0.5 else None
    if last_contact and detained and last_contact.isoformat() < detained.isoformat():
        last_contact = None
    reporters = [
        {"full_name": fictional_person(rng).names[0][2], "relationship": rng.choice(RELATIONS),
         "phone": f"+7 7{rng.randint(0, 9)}{rng.randint(0, 9)} {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
         "consents": {kind: rng.choices(("none", "case", "identity"), weights=(3, 4, 3))[0]
                      for kind in ("kz_mfa", "prc_embassy", "kz_parliament", "un", "public")}}
        for _ in range(rng.choice((1, 1, 1, 2)))
    ]
    return CaseRecord(
        names=person.names, sex=person.sex, birth_date=birth,
        prc_id=prc_id_for(rng, county.code, born, person.sex) if rng.random() < 0.6 else None,
        iin=iin_for(rng, born, person.sex) if citizenship in ("kazakhstan", "dual_claim") else None,
        hometown_code=county.code, hometown_prefecture_code=prefecture,
        village=rng.choice(("", "Aqsu", "Saryqobda", "Jañaauyl", "Qaratal", "Tasbulaq")),
        occupation=rng.choice(OCCUPATIONS), citizenship=citizenship, status=status,
        verification_level=rng.choices((0, 1, 2, 3, 4), weights=(10, 30, 35, 15, 10))[0],
        detained_on=detained, last_contact_on=last_contact,
        detention_facility=rng.choice(FACILITIES) if status not in ("missing", "unknown") else "",
        alleged_reasons=rng.sample(REASONS, rng.randint(1, 3)), narrative=rng.choice(NARRATIVES),
        restricted=rng.random() < 0.05, reporters=reporters,
    )
