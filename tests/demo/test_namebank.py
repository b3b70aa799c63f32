"""The fictional name bank: well-formed names in all four scripts, deterministic, findable by search."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from casefile.demo.namebank import (
    FATHER_NAMES,
    FEMALE_NAMES,
    MALE_NAMES,
    FictionalPerson,
    fictional_person,
    russian_form,
    russian_surname,
)
from casefile.people.names import PINYIN, SCRIPTS, detect_script, index_tokens, matches, query_tokens, script_error


@pytest.fixture(scope="module")
def people() -> list[FictionalPerson]:
    rng = random.Random(20240601)
    return [fictional_person(rng) for _ in range(600)]


def test_bank_sizes_and_scripts() -> None:
    assert len(MALE_NAMES) >= 60 and len(FEMALE_NAMES) >= 40 and len(FATHER_NAMES) >= 80
    for bank in (MALE_NAMES, FEMALE_NAMES, FATHER_NAMES):
        assert len({cyrillic for cyrillic, _ in bank}) == len(bank), "a name is listed twice"
        for cyrillic, chinese in bank:
            assert script_error(cyrillic, "cyrillic") is None, cyrillic
            assert script_error(chinese, "chinese") is None, chinese


def test_every_chinese_character_has_a_reading() -> None:
    # Search folds Chinese through pinyin: a character without a reading only matches itself.
    missing = {ch for bank in (MALE_NAMES, FEMALE_NAMES, FATHER_NAMES) for _, zh in bank for ch in zh
               if ch not in PINYIN}
    assert not missing


@pytest.mark.parametrize(("cyrillic", "chinese"), [
    ("Нұрлан", "努尔兰"), ("Серік", "赛力克"), ("Бақыт", "巴合提"), ("Тоқтар", "托合塔尔"), ("Ержан", "叶尔江"),
    ("Мұрат", "木拉提"), ("Айгүл", "阿依古丽"),
])
def test_transcriptions_follow_prc_habits(cyrillic: str, chinese: str) -> None:
    assert dict(MALE_NAMES + FEMALE_NAMES)[cyrillic] == chinese


def test_every_generated_name_is_well_formed(people: list[FictionalPerson]) -> None:
    for person in people:
        for script, kind, text in person.names:
            assert script in SCRIPTS and kind in {"primary", "document", "alias"}
            assert script_error(text, script) is None, (script, text, script_error(text, script))
            assert detect_script(text) == script


def test_shape_of_a_person(people: list[FictionalPerson]) -> None:
    for person in people:
        assert person.sex in ("M", "F") and 1940 <= person.birth_year <= 2000
        assert {script for script, _, _ in person.names} == set(SCRIPTS)
        assert person.names[0][:2] == ("cyrillic", "primary") and person.primary == person.names[0][2]
        assert person.names[1][:2] == ("chinese", "document")
        assert [kind for _, kind, _ in person.names].count("primary") == 1
        assert person.primary.endswith("ұлы" if person.sex == "M" else "қызы")


def test_the_mix_is_plausible(people: list[FictionalPerson]) -> None:
    sexes = Counter(p.sex for p in people)
    assert 0.6 < sexes["M"] / len(people) < 0.8
    russian = sum(1 for p in people if len(p.names) == 5)
    assert 0.2 < russian / len(people) < 0.4
    with_suffix = sum(1 for p in people if p.names[3][2].endswith(("ۇلى", "قىزى")))
    assert 0.35 < with_suffix / len(people) < 0.65
    assert len({p.primary for p in people}) > len(people) * 0.9
    assert len({p.birth_year for p in people}) > 40


def test_deterministic_for_a_seed() -> None:
    first = [fictional_person(random.Random(7)) for _ in range(3)]
    again = [fictional_person(random.Random(7)) for _ in range(3)]
    assert first == again
    rng_a, rng_b = random.Random(11), random.Random(11)
    assert [fictional_person(rng_a) for _ in range(50)] == [fictional_person(rng_b) for _ in range(50)]
    assert [fictional_person(random.Random(12)) for _ in range(5)] != [fictional_person(random.Random(13))
                                                                        for _ in range(5)]


def test_every_alias_finds_the_person(people: list[FictionalPerson]) -> None:
    for person in people:
        # As the case list stores them: the primary, the document and the Arabic-script names.
        stored = [text for script, kind, text in person.names if kind != "alias" or script == "arabic"]
        index = set().union(*(index_tokens(text) for text in stored))
        for _script, _kind, text in person.names:
            assert matches(query_tokens(text), index), (text, person.names)


@pytest.mark.parametrize(("father", "sex", "surname"), [
    ("Тоқтар", "M", "Токтаров"), ("Тоқтар", "F", "Токтарова"), ("Жұмабай", "M", "Жумабаев"),
    ("Нұрғали", "M", "Нургалиев"), ("Қуаныш", "F", "Куанышева"), ("Дәлелхан", "F", "Далелханова"),
])
def test_russian_surnames(father: str, sex: str, surname: str) -> None:
    assert russian_surname(father, sex) == surname


@pytest.mark.parametrize(("kazakh", "russian"), [
    ("Нұрлан", "Нурлан"), ("Айгүл", "Айгуль"), ("Гүлнар", "Гульнар"), ("Мұрат", "Мурат"), ("Әсел", "Асел"),
])
def test_russian_given_names(kazakh: str, russian: str) -> None:
    assert russian_form(kazakh) == russian
