"""Name keys: normalisation, roles from patronymics and word order, Chinese readings, distances."""

from __future__ import annotations

import pytest

from casefile.demo.namebank import FATHER_NAMES, FEMALE_NAMES, MALE_NAMES
from casefile.matching import chinese
from casefile.matching.keys import FATHER, GIVEN, SURNAME, WHOLE, part_similarity, person_name_keys


def roles(text: str) -> dict[str, str]:
    """role → key of a written name."""
    return {p.role: p.key for p in person_name_keys(text).parts}


def same_keys(a: str, b: str) -> bool:
    ka, kb = person_name_keys(a), person_name_keys(b)
    return [(p.role, p.key) for p in ka.parts] == [(p.role, p.key) for p in kb.parts]


# -- normalisation ---------------------------------------------------------------------------


@pytest.mark.parametrize(("typed", "kazakh"), [
    ("سهرىك بولات", "سەرىك بولات"),  # ه for ە
    ("ءاليا", "ٴاليا"),  # ء for the töte hamza ٴ
    ("کاميلا", "كاميلا"),  # Persian kaf
    ("قایرات", "قايرات"),  # Persian ye
    ("باقىتی", "باقىتى"),
    ("ساۋله ەرجانقىزى", "ساۋلە ەرجانقىزى"),
])
def test_arabic_look_alikes_give_the_same_keys(typed: str, kazakh: str) -> None:
    assert same_keys(typed, kazakh)


@pytest.mark.parametrize("separator", ["·", "•", "・", "･", "-", ".", " ", "\u3000", "．", " · "])
def test_chinese_separators(separator: str) -> None:
    assert roles(f"努尔兰{separator}托合塔尔") == {GIVEN: "nurlan", FATHER: "toqtar"}


@pytest.mark.parametrize(("a", "b"), [
    ("TOKTARULY NURLAN", "Toktaruly Nurlan"),
    ("Токтар Нурлан", "Тоқтар Нұрлан"),
    ("Бакыт Нурбеков", "Бақыт Нұрбеков"),
    ("Даулет Мухтарулы", "Дәулет Мұхтарұлы"),
    ("Гульнар Кайратова", "Гүлнар Қайратова"),
    ("Yerlan Askar", "Erlan Asqar"),
    ("Zhanar Serik", "Janar Serık"),
    ("Mukhtar Dulat", "Mūhtar Dulat"),
    ("Nu\u0304rlan", "Nūrlan"),  # combining macron
    ("Нұрлан  Тоқтарұлы ", "Нұрлан Тоқтарұлы"),
])
def test_spelling_variants_give_the_same_keys(a: str, b: str) -> None:
    assert same_keys(a, b), (person_name_keys(a), person_name_keys(b))


def test_phonetic_keys_fold_sound_alikes() -> None:
    # The key keeps х apart from қ (Мұхтар has a real х); the phonetic key merges q, k and h.
    names = ["Бақыт", "Бахыт", "Bakyt", "Bakhyt", "Baqyt", "باقىت"]
    assert {person_name_keys(n).given.phonetic for n in names} == {"bakit"}
    assert {person_name_keys(n).given.key for n in names} == {"baqyt", "bahyt"}
    assert part_similarity(person_name_keys("Бақыт").given, person_name_keys("巴合提").given) >= 0.9  # ы unwritten


def test_kazakh_latin_sh_is_s_and_h() -> None:
    assert roles("Ashat Erdenūly") == {GIVEN: "ashat", FATHER: "erden"}  # 2021 Latin: Асхат
    assert roles("Shynar") == {GIVEN: "şynar"}  # English: Шынар
    assert part_similarity(person_name_keys("Ashat").given, person_name_keys("Асхат").given) == 1.0


def test_hyphenated_given_name_is_one_word() -> None:
    assert roles("Нұр-Сұлтан Тоқтарұлы") == {GIVEN: "nursultan", FATHER: "toqtar"}


def test_empty_names_have_no_parts() -> None:
    assert person_name_keys("").parts == ()
    assert person_name_keys(" · - ").parts == ()


# -- roles -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "sex"), [
    ("Нұрлан Тоқтарұлы", "M"), ("Нурлан Токтарулы", "M"), ("Нұрлан Тоқтар ұлы", "M"), ("Нурлан Токтар улы", "M"),
    ("Nūrlan Toqtarūly", "M"), ("Nurlan Toktaruly", "M"), ("TOKTARULY NURLAN", "M"), ("Nurlan Toktar uly", "M"),
    ("نۇرلان توقتارۇلى", "M"), ("نۇرلان توقتار ۇلى", "M"), ("Нурлан Токтарович", "M"), ("Nurlan Toktarovich", "M"),
])
def test_patronymics_of_sons(text: str, sex: str) -> None:
    keys = person_name_keys(text)
    assert roles(text) == {GIVEN: "nurlan", FATHER: "toqtar"}
    assert keys.order_known and keys.sex == sex


@pytest.mark.parametrize("text", [
    "Айгүл Тұрсынқызы", "Айгуль Турсынкызы", "Айгүл Тұрсын қызы", "Aigül Tūrsynqyzy", "Aigul Tursynkyzy",
    "TURSYNKYZY AIGUL", "ايگۇل تۇرسىنقىزى", "ايگۇل تۇرسىن قىزى", "Айгуль Турсыновна",
])
def test_patronymics_of_daughters(text: str) -> None:
    keys = person_name_keys(text)
    assert roles(text) == {GIVEN: "aigul", FATHER: "tursyn"}
    assert keys.order_known and keys.sex == "F"


@pytest.mark.parametrize(("text", "expected", "sex"), [
    ("Токтаров Нурлан", {SURNAME: "toqtar", GIVEN: "nurlan"}, "M"),
    ("TOKTAROV NURLAN", {SURNAME: "toqtar", GIVEN: "nurlan"}, "M"),
    ("Nurlan Toktarov", {GIVEN: "nurlan", SURNAME: "toqtar"}, "M"),
    ("Турсынова Айгуль", {SURNAME: "tursyn", GIVEN: "aigul"}, "F"),
    ("Жумабаев Канат", {SURNAME: "jumabai", GIVEN: "qanat"}, "M"),  # -аев from Жұмабай
    ("Серикбаева Акбота", {SURNAME: "serikbai", GIVEN: "aqbota"}, "F"),
    ("Гульнара Серикқызы Кайратова", {GIVEN: "gulnara", FATHER: "serik", SURNAME: "qairat"}, "F"),
    ("Бахыт Нурбекович Нурбеков", {GIVEN: "bahyt", FATHER: "nurbek", SURNAME: "nurbek"}, "M"),
])
def test_russian_surnames(text: str, expected: dict[str, str], sex: str) -> None:
    keys = person_name_keys(text)
    assert roles(text) == expected and keys.order_known and keys.sex == sex


def test_chinese_names_are_given_then_father() -> None:
    keys = person_name_keys("托合塔尔·努尔兰")
    assert roles("托合塔尔·努尔兰") == {GIVEN: "toqtar", FATHER: "nurlan"}
    assert keys.order_known and keys.sex is None
    assert person_name_keys("努尔兰托合塔尔").parts[0].role == WHOLE  # no separator: cannot split
    assert roles("阿依古丽") == {GIVEN: "aigul"}


@pytest.mark.parametrize("text", ["Тоқтар Нұрлан", "SERIK BOLAT", "نۇرلان توقتار", "Erlan Askar"])
def test_bare_two_word_names_have_no_known_order(text: str) -> None:
    keys = person_name_keys(text)
    assert not keys.order_known
    assert [p.role for p in keys.parts] == [GIVEN, FATHER]


def test_father_and_son_keep_their_roles() -> None:
    son, father = person_name_keys("Нұрлан Тоқтарұлы"), person_name_keys("Тоқтар Нұрланұлы")
    assert son.given.key == father.father.key == "nurlan"
    assert son.father.key == father.given.key == "toqtar"
    assert part_similarity(son.given, father.given) < 0.8


def test_ayiguli_is_not_a_patronymic() -> None:
    assert roles("Ayiguli") == {GIVEN: "ayiguli"}  # pinyin 古丽, not -ұлы


# -- Chinese -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("a", "b", "key"), [
    ("托合塔尔", "托克塔尔", "toqtar"), ("哈那提", "哈纳提", "qanat"), ("赛力克", "赛里克", None),
    ("阿依古丽", "阿衣古丽", "aigul"), ("加娜尔", "加那尔", "janar"), ("吐尔逊", "图尔逊", None),
])
def test_chinese_variants_meet(a: str, b: str, key: str | None) -> None:
    ka, kb = person_name_keys(a).given, person_name_keys(b).given
    assert part_similarity(ka, kb) == 1.0
    if key:
        assert ka.key == kb.key == key


@pytest.mark.parametrize(("chinese_name", "kazakh"), [
    ("努尔兰", "Нұрлан"), ("托合塔尔", "Тоқтар"), ("赛力克", "Серік"), ("叶尔江", "Ержан"), ("巴合提江", "Бақытжан"),
    ("别克扎提", "Бекзат"), ("海拉提", "Қайрат"), ("达吾列提汗", "Дәулетхан"), ("古丽娜尔", "Гүлнар"),
    ("哈力木", "Ғалым"), ("吾马尔", "Омар"), ("库瓦尼西", "Қуаныш"), ("杰恩斯", "Жеңіс"), ("包尔江", "Бауыржан"),
])
def test_chinese_transcriptions_read_back_as_kazakh(chinese_name: str, kazakh: str) -> None:
    # ≥ 0.9: the reduced vowels ы/і are often left unwritten (杰恩斯 j-n-s for Жеңіс).
    assert part_similarity(person_name_keys(chinese_name).given, person_name_keys(kazakh).given) >= 0.9


@pytest.mark.parametrize(("a", "b"), [("马拉提", "木拉提"), ("叶尔兰", "叶尔江"), ("哈那提", "加那提"), ("赛力克", "叶力克")])
def test_different_chinese_names_stay_apart(a: str, b: str) -> None:
    assert part_similarity(person_name_keys(a).given, person_name_keys(b).given) < 0.9


def test_pinyin_romanisations_read_through_the_characters() -> None:
    assert chinese.pinyin_syllables("nuerlan") == ("nu", "er", "lan")
    assert chinese.pinyin_syllables("aidana") == ("ai", "da", "na")
    assert chinese.pinyin_syllables("murat") is None
    romanised = [("NUERLAN", "Нұрлан"), ("TUOHETAER", "Тоқтар"), ("BIEKEZATI", "Бекзат"), ("YEERZHATI", "Ерзат")]
    for pinyin, kazakh in romanised:
        assert part_similarity(person_name_keys(pinyin).given, person_name_keys(kazakh).given) >= 0.95, pinyin


def test_the_table_is_large_and_keeps_every_reading() -> None:
    assert len(chinese.CHARACTERS) >= 300
    assert {"l", "r"} <= set(chinese.readings("力"))
    assert {"q", "h", "ğ"} <= set(chinese.readings("合"))
    assert chinese.readings("江")[:1] == ("jan",)
    assert chinese.preferred_reading("尔兰") == "erlan" and chinese.preferred_reading("努尔兰") == "nurlan"
    assert chinese.preferred_reading("哈力木") == "qalm" and chinese.preferred_reading("木拉提") == "mulat"
    assert chinese.readings("陈") == ("çen",) and chinese.readings("㐀") == ("㐀",)


def test_the_demo_name_bank_is_covered() -> None:
    used = {ch for bank in (MALE_NAMES, FEMALE_NAMES, FATHER_NAMES) for _, zh in bank for ch in zh}
    assert used <= set(chinese.CHARACTERS)


# -- distance ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("a", "b"), [
    ("Бауыржан", "Бауржан"), ("Жүсіп", "Жусуп"), ("Тұрсын", "Турсун"), ("Әсел", "Assel"), ("Nurlan", "Nurlna"),
])
def test_spellings_of_one_name_are_close(a: str, b: str) -> None:
    assert part_similarity(person_name_keys(a).given, person_name_keys(b).given) >= 0.88


@pytest.mark.parametrize(("a", "b"), [
    ("Ерлан", "Ержан"), ("Марат", "Мұрат"), ("Серік", "Серікжан"), ("Жұмабек", "Жұмабай"), ("Бақыт", "Бақытжан"),
    ("Асқар", "Асхат"), ("Нұрлан", "Нұржан"), ("Тұрсын", "Тұрсынбек"), ("Дәулет", "Дәулетхан"),
])
def test_different_names_are_not(a: str, b: str) -> None:
    assert part_similarity(person_name_keys(a).given, person_name_keys(b).given) < 0.85
