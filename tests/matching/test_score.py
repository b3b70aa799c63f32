"""compare(): identifiers, names by role, birth dates, sex, hometown, reasons; blocking keys."""

from __future__ import annotations

import pytest

from casefile.core.partial_dates import PartialDate
from casefile.matching import (
    DEFAULT_THRESHOLD,
    PersonFacts,
    blocking_keys,
    candidate_pairs,
    compare,
    prepare,
)
from casefile.people.identifiers import convert_legacy_prc_id, iin_check_digit, prc_check_character


def prc(first17: str) -> str:
    return first17 + prc_check_character(first17)


def iin(first11: str) -> str:
    check = iin_check_digit(first11)
    assert check is not None
    return first11 + str(check)


NURLAN_ID = prc("65402819760314001")  # Nilka, 1976-03-14, male
OTHER_ID = prc("65422119880101003")
NURLAN_IIN = iin("76031430001")
OTHER_IIN = iin("88010130002")


def person(*names: str, born: str | None = None, **facts: str | None) -> PersonFacts:
    return PersonFacts([(n, None) for n in names], PartialDate.from_iso(born) if born else None, **facts)


def test_threshold_and_score_range() -> None:
    assert 0 < DEFAULT_THRESHOLD < 1
    for a, b in [(person("Нұрлан Тоқтарұлы"), person("努尔兰·托合塔尔")), (person("Нұрлан"), person("Марат"))]:
        assert 0.0 <= compare(a, b).score <= 1.0
        assert compare(a, b).score == compare(b, a).score


# -- identifiers -------------------------------------------------------------------------------


def test_the_same_prc_id_is_a_match_whatever_the_names() -> None:
    match = compare(person("Нұрлан Тоқтарұлы", prc_id=NURLAN_ID), person("Марат Дулатұлы", prc_id=NURLAN_ID))
    assert match.score == 1.0 and match.reasons[0] == "same PRC ID"


def test_the_legacy_form_of_an_id_is_the_same_id() -> None:
    legacy = "654028760314001"
    match = compare(person("A", prc_id=legacy), person("B", prc_id=convert_legacy_prc_id(legacy)))
    assert match.score == 1.0


def test_different_prc_ids_are_never_one_person() -> None:
    match = compare(person("Нұрлан Тоқтарұлы", prc_id=NURLAN_ID, born="1976-03-14"),
                    person("Нұрлан Тоқтарұлы", prc_id=OTHER_ID, born="1976-03-14"))
    assert match.score == 0.0
    assert match.reasons == [f"different PRC IDs ({NURLAN_ID}, {OTHER_ID})"]


def test_iins_decide_like_prc_ids() -> None:
    assert compare(person("Нұрлан", iin=NURLAN_IIN), person("Серік", iin=NURLAN_IIN)).reasons == ["same IIN"]
    assert compare(person("Нұрлан", iin=NURLAN_IIN), person("Нұрлан", iin=OTHER_IIN)).score == 0.0


def test_an_invalid_id_decides_nothing() -> None:
    broken = NURLAN_ID[:-1] + ("0" if NURLAN_ID[-1] != "0" else "1")
    against_valid = compare(person("Нұрлан Тоқтарұлы", prc_id=broken), person("Нұрлан Тоқтарұлы", prc_id=OTHER_ID))
    assert 0.0 < against_valid.score < 1.0
    same_broken = compare(person("Нұрлан Тоқтарұлы", prc_id=broken), person("Нурлан Токтаров", prc_id=broken))
    assert "same PRC ID, though it fails its check digit" in same_broken.reasons
    assert same_broken.score > compare(person("Нұрлан Тоқтарұлы"), person("Нурлан Токтаров")).score


def test_an_id_supplies_birth_date_sex_and_hometown() -> None:
    prepared = prepare(person("Нұрлан Тоқтарұлы", prc_id=NURLAN_ID))
    assert prepared.birth_date == PartialDate(1976, 3, 14)
    assert prepared.sex == "M" and prepared.hometown == "654028"
    match = compare(person("Нұрлан Тоқтарұлы", prc_id=NURLAN_ID), person("努尔兰·托合塔尔", born="1976-03-14"))
    assert "same birth date (1976-03-14)" in match.reasons and "same hometown (654028)" not in match.reasons
    assert compare(person("Нұрлан Тоқтарұлы", prc_id=NURLAN_ID), person("Нұрлан Тоқтарұлы", born="1990")).score < 0.05


# -- names -------------------------------------------------------------------------------------


def test_names_agree_across_scripts() -> None:
    match = compare(person("Нұрлан Тоқтарұлы"), person("努尔兰·托克塔尔"))
    assert match.score >= DEFAULT_THRESHOLD
    assert match.reasons == ["names agree across scripts: Нұрлан Тоқтарұлы ≈ 努尔兰·托克塔尔"]


@pytest.mark.parametrize("other", [
    "TOKTARULY NURLAN", "Токтаров Нурлан", "Nūrlan Toqtarūly", "نۇرلان توقتار ۇلى", "NUERLAN TUOHETAER",
    "努尔兰•托合塔尔", "Nurlan Tokhtarov", "نۇرلان توقتار", "Тоқтар Нұрлан",
])
def test_spellings_of_one_person_match_on_names_alone(other: str) -> None:
    assert compare(person("Нұрлан Тоқтарұлы", "努尔兰·托合塔尔"), person(other)).score >= DEFAULT_THRESHOLD


def test_a_family_name_counts_as_a_weaker_fathers_name() -> None:
    patronymic = compare(person("Нұрлан Тоқтарұлы"), person("Нұрлан Тоқтар ұлы"))
    surname = compare(person("Нұрлан Тоқтарұлы"), person("Токтаров Нурлан"))
    assert patronymic.score > surname.score >= DEFAULT_THRESHOLD
    assert "a family name read as the father's name" in surname.reasons[0]


def test_father_and_son_are_told_apart() -> None:
    match = compare(person("Нұрлан Тоқтарұлы", "努尔兰·托合塔尔"), person("Тоқтар Нұрланұлы", "托合塔尔·努尔兰"))
    assert match.score < 0.01
    assert match.reasons[0].startswith("the same names in the opposite order (father and son?)")


def test_brothers_are_not_over_scored_by_the_fathers_name() -> None:
    match = compare(person("Ерлан Асқарұлы", "叶尔兰·阿斯卡尔"), person("Ержан Асқарұлы", "叶尔江·阿斯卡尔"))
    assert match.score < DEFAULT_THRESHOLD
    assert "brothers or sisters" in match.reasons[0]
    same_hometown = compare(person("Нұрлан Тоқтарұлы", hometown_code="654028"),
                            person("Нұржан Тоқтарұлы", hometown_code="654028"))
    assert same_hometown.score < DEFAULT_THRESHOLD


def test_a_different_fathers_name_outweighs_the_given_name() -> None:
    match = compare(person("Қанат Жұмабекұлы"), person("Қанат Жұмабайұлы"))
    assert match.score < DEFAULT_THRESHOLD
    assert match.reasons == ["given names agree but fathers' names differ: Қанат Жұмабекұлы / Қанат Жұмабайұлы"]


def test_a_real_patronymic_wins_over_a_married_surname() -> None:
    maiden = person("Майра Аскарова", "Майра Ерланқызы")
    assert compare(person("Майра Асқарқызы"), maiden).score < DEFAULT_THRESHOLD
    # Without the maiden name the two cannot be told apart: the pair goes to review.
    assert compare(person("Майра Асқарқызы"), person("Майра Аскарова")).score >= DEFAULT_THRESHOLD


def test_word_order_guessed_is_said() -> None:
    match = compare(person("Тоқтар Нұрлан"), person("Нұрлан Тоқтарұлы"))
    assert "reading Тоқтар Нұрлан father's name first" in match.reasons[0]
    assert match.score < compare(person("Нұрлан Тоқтар ұлы"), person("Нұрлан Тоқтарұлы")).score


def test_a_persons_known_names_settle_an_unknown_order() -> None:
    prepared = prepare(person("Нұрлан Тоқтарұлы", "Тоқтар Нұрлан"))
    assert len(prepared.readings) == 1
    assert [n.given.key for n in prepared.names] == ["nurlan", "nurlan"]


def test_a_given_name_alone_needs_more_than_the_name() -> None:
    assert compare(person("Айгүл"), person("阿依古丽·吐尔逊")).score < DEFAULT_THRESHOLD
    assert compare(person("Айгүл", born="1990"), person("阿依古丽·吐尔逊", born="1990")).score < DEFAULT_THRESHOLD
    both_dated = compare(person("Айгүл", born="1990-05-18"), person("阿依古丽·吐尔逊", born="1990-05-18"))
    assert both_dated.score >= DEFAULT_THRESHOLD
    assert both_dated.reasons == ["same birth date (1990-05-18)",  # strongest first
                                  "given names agree across scripts, no father's name to compare: Айгүл ≈ 阿依古丽·吐尔逊"]


def test_an_unseparated_chinese_name() -> None:
    match = compare(person("努尔兰托合塔尔"), person("Нұрлан Тоқтарұлы"))
    assert match.score >= DEFAULT_THRESHOLD and "without a separator" in match.reasons[0]
    assert compare(person("努尔兰托合塔尔"), person("努尔兰托克塔尔")).score >= DEFAULT_THRESHOLD
    assert compare(person("努尔兰托合塔尔"), person("努尔江托合塔尔")).score < DEFAULT_THRESHOLD


# -- birth dates, sex, hometown ----------------------------------------------------------------


@pytest.mark.parametrize(("a", "b", "reason"), [
    ("1976-03-14", "1976-03-14", "same birth date (1976-03-14)"),
    ("1976", "1976-03-14", "birth dates agree as far as known (1976, 1976-03-14)"),
    ("1976-03", "1976-03-14", "birth dates agree as far as known (1976-03, 1976-03-14)"),
    ("1971", "1975", "birth years differ (1971, 1975)"),
    ("1976-03-14", "1976-11-02", "birth dates differ (1976-03-14, 1976-11-02)"),
    ("1976-03-04", "1976-04-03", "birth dates differ, day and month swapped? (1976-03-04, 1976-04-03)"),
    ("1976-03-14", "1977-03-14", "same day and month, birth years one apart (a typo?) (1976-03-14, 1977-03-14)"),
    ("1976", "1977-03-14", "birth years one apart, one known only to the year (1976, 1977-03-14)"),
    ("1976-03-14", "1977-10-30", "birth years differ (1976, 1977)"),
])
def test_birth_dates(a: str, b: str, reason: str) -> None:
    match = compare(person("Нұрлан Тоқтарұлы", born=a), person("Нұрлан Тоқтарұлы", born=b))
    assert reason in match.reasons


def test_birth_dates_order_the_scores() -> None:
    names = ("Нұрлан Тоқтарұлы", "努尔兰·托合塔尔")
    scores = [compare(person(names[0], born="1976-03-14"), person(names[1], born=b)).score
              for b in ("1976-03-14", "1976", None, "1977-03-14", "1976-11-02", "1977-10-30", "1988")]
    assert scores == sorted(scores, reverse=True)
    assert scores[0] >= 0.99 and scores[-1] < 0.05
    assert scores[4] < DEFAULT_THRESHOLD and scores[5] < DEFAULT_THRESHOLD


def test_a_sex_difference_is_strongly_against() -> None:
    match = compare(person("Жанат Серікұлы", born="1980-01-01", sex="M"),
                    person("Жанат Серікұлы", born="1980-01-01", sex="F"))
    assert match.score < DEFAULT_THRESHOLD and "sexes differ (M, F)" in match.reasons
    # Without a recorded sex, -ұлы and -қызы say it.
    assert compare(person("Жанат Серікұлы"), person("Жанат Серікқызы")).score < DEFAULT_THRESHOLD


def test_hometown_adds_a_little() -> None:
    base = compare(person("Айгүл", born="1990"), person("阿依古丽", born="1990")).score
    same = compare(person("Айгүл", born="1990", hometown_code="654202"),
                   person("阿依古丽", born="1990", hometown_code="654202"))
    near = compare(person("Айгүл", born="1990", hometown_code="654201"),
                   person("阿依古丽", born="1990", hometown_code="654202"))
    far = compare(person("Айгүл", born="1990", hometown_code="654028"),
                  person("阿依古丽", born="1990", hometown_code="654202"))
    assert same.score > near.score > base > far.score
    assert "same hometown (654202)" in same.reasons
    assert "hometowns in the same prefecture (654201, 654202)" in near.reasons
    assert "different hometowns (654028, 654202)" in far.reasons


def test_prepared_people_compare_like_facts() -> None:
    a, b = person("Нұрлан Тоқтарұлы", born="1976"), person("NUERLAN TUOHETAER", born="1976-03-14")
    assert compare(prepare(a), prepare(b)) == compare(a, b)


# -- blocking ----------------------------------------------------------------------------------


def test_blocking_keys_of_one_person_meet_across_scripts() -> None:
    spellings = ["Нұрлан Тоқтарұлы", "Токтаров Нурлан", "TOKTARULY NURLAN", "努尔兰·托克塔尔", "نۇرلان توقتار",
                 "Тоқтар Нұрлан", "NUERLAN TUOHETAER"]
    keys = [blocking_keys(person(s)) for s in spellings]
    for i, a in enumerate(keys):
        for b in keys[i + 1:]:
            assert a & b


def test_blocking_keys_hold_identifiers_and_a_lone_given_name_with_its_year() -> None:
    keys = blocking_keys(person("Нұрлан Тоқтарұлы", prc_id=NURLAN_ID, iin=NURLAN_IIN))
    assert {f"prc:{NURLAN_ID}", f"iin:{NURLAN_IIN}"} <= keys
    lone = blocking_keys(person("Айгүл", born="1990-05-18"))
    assert lone & blocking_keys(person("阿依古丽·吐尔逊", born="1990-05-18"))
    assert not lone & blocking_keys(person("阿依古丽·吐尔逊", born="1990-11-02"))
    assert blocking_keys(person("Айгүл", born="1990")) & blocking_keys(person("Aigul", born="1990-11-02"))
    assert blocking_keys(person("Айгүл")) == set()


def test_candidate_pairs() -> None:
    new = [person("Нұрлан Тоқтарұлы"), person("努尔兰·托合塔尔"), person("Гүлнар Қайратқызы")]
    existing = [person("Марат Дулатұлы"), person("NURLAN TOKTAROV"), person("古丽娜尔·海拉提", prc_id=NURLAN_ID)]
    assert candidate_pairs(new) == {(0, 1)}
    assert candidate_pairs(new, existing) == {(0, 1), (1, 1), (2, 2)}
