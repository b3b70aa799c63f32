"""Names: script checks, display form, folding and the search match rule, on the shared examples."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from casefile.people.names import (
    SCRIPTS,
    cyrillic_to_latin_2021,
    cyrillic_to_passport,
    cyrillic_to_tote,
    detect_script,
    index_tokens,
    matches,
    normalize_display,
    query_tokens,
    script_error,
    skeleton,
)

DOMAIN = Path(__file__).parents[2].parent / "shared" / "domain"
if not (DOMAIN / "name_variants.json").exists() or not (DOMAIN / "pairs.json").exists():
    pytest.skip("shared/domain name examples are not beside the repository", allow_module_level=True)

PEOPLE = json.loads((DOMAIN / "name_variants.json").read_text(encoding="utf-8"))
PAIRS = json.loads((DOMAIN / "pairs.json").read_text(encoding="utf-8"))
# Pairs whose names are meant to find each other: search shows both, people tell them apart.
SAME_NAME_PAIRS = {
    1: "identical names in every script",
    10: "the married surname Аскарова has the same stem as the patronymic Асқарқызы",
}

# Ten people who are not in the shared file: Cyrillic, Chinese, then spellings that must find them.
MORE_PEOPLE = [
    ("Қуаныш Сәрсенбайұлы", "库瓦尼西·沙尔森拜",
     ["Куаныш Сарсенбаев", "Kuanysh Sarsenbay", "Quanyş Särsenbaiūly", "SARSENBAIULY KUANYSH", "Kuanish Sarsenbai"]),
    ("Ғалым Шәріпұлы", "哈力木·夏里甫",
     ["Галым Шарипов", "Ghalym Sharip", "Ğalym Şärıpūly", "SHARIPULY GALYM", "Galim Sharipov"]),
    ("Әсел Оразқызы", "阿赛丽·吾拉孜",
     ["Асель Оразова", "Assel Orazkyzy", "Äsel Orazqyzy", "ORAZKYZY ASSEL", "Asel Oraz"]),
    ("Мейрам Жақыпұлы", "买热木·加合甫",
     ["Мейрам Жакыпов", "Meiram Zhakypov", "Meyram Jaqyp", "ZHAKYPULY MEIRAM", "Jaqyp Meiram"]),
    ("Гүлшат Мұқанқызы", "古丽夏提·木坎",
     ["Гульшат Муканова", "Gulshat Mukan", "Gülşat Mūqanqyzy", "MUKANKYZY GULSHAT", "古丽夏提"]),
    ("Ербол Нұрғалиұлы", "叶尔波力·努尔哈力",
     ["Ербол Нургалиев", "Yerbol Nurgali", "Erbol Nūrğaliūly", "NURGALIULY YERBOL", "Ербол Нұрғали ұлы"]),
    ("Ақбота Серікбайқызы", "阿克波塔·赛力克拜",
     ["Акбота Серикбаева", "Akbota Serikbay", "Aqbota Serıkbaiqyzy", "SERIKBAIKYZY AKBOTA", "阿克波塔·赛里克拜"]),
    ("Жақсылық Дүйсенұлы", "加克斯勒克·杜伊森",
     ["Жаксылык Дуйсенов", "Zhaksylyk Duisen", "Jaqsylyq Düisenūly", "DUISENULY ZHAKSYLYK", "Jaksylyk Duysenuly"]),
    ("Мөлдір Төлегенқызы", "莫勒德尔·托列根",
     ["Молдир Толегенова", "Moldir Tolegen", "Möldır Tölegenqyzy", "TOLEGENKYZY MOLDIR", "Moldir Tolegenkyzy"]),
    ("Темірлан Бекмұратұлы", "铁木尔兰·别克木拉提",
     ["Темирлан Бекмуратов", "Temirlan Bekmurat", "Temırlan Bekmūratūly", "BEKMURATULY TEMIRLAN", "Temirlan"]),
]


def _without_patronymic(name: str) -> str:
    return re.sub(r"(ұлы|қызы)$", "", name)


def _index(*names: str) -> set[str]:
    return set().union(*(index_tokens(n) for n in names))


def _more_person_index(cyrillic: str, chinese: str) -> set[str]:
    given, father = cyrillic.split()
    return _index(cyrillic, chinese, cyrillic_to_tote(f"{given} {_without_patronymic(father)}"))


def _person_index(person: dict) -> set[str]:
    return _index(person["kz_cyrillic_patronymic"], person["chinese"], person["kazakh_arabic_script"])


def _variants(person: dict) -> list[str]:
    keys = ("kz_cyrillic_patronymic", "kz_latin_2021", "passport_style_latin", "chinese", "kazakh_arabic_script")
    return [person[k] for k in keys] + person["other_variants"] + [person["pinyin_passport_style"]]


def _pair_names(description: str) -> list[str]:
    """The written names of one side of a pair: the text before the first comment, split on " / "."""
    return [part.strip() for part in re.split(r"[(,]", description)[0].split(" / ")]


@pytest.mark.parametrize(("text", "script"), [
    ("Нұрлан Тоқтарұлы", "cyrillic"),
    ("Токтаров Нурлан", "cyrillic"),
    ("Nūrlan Toqtarūly", "latin"),
    ("Nu\u0304rlan Şıñğysqyzy", "latin"),  # combining macron
    ("Aıgúl O'Neil", "latin"),
    ("İlyas Ğalym", "latin"),
    ("努尔兰·托合塔尔", "chinese"),
    ("努尔兰•托合塔尔", "chinese"),
    ("努尔兰・托合塔尔", "chinese"),
    ("努尔兰-托合塔尔", "chinese"),
    ("نۇرلان توقتار", "arabic"),
    ("ٴالييا", "arabic"),
    ("ساۋلە\u200cەرجان", "arabic"),
    ("Nurlаn", None),  # Cyrillic а
    ("Нурлaн", None),  # Latin a
    ("Нұрлан 努尔兰", None),
    ("Ολγα", None),
    ("", None),
    (" ·-. ", None),
    ("1976", None),
])
def test_detect_script(text: str, script: str | None) -> None:
    assert detect_script(text) == script


@pytest.mark.parametrize(("text", "script"), [
    ("Нұрлан Тоқтарұлы", "cyrillic"), ("Gülnar Qairatqyzy", "latin"), ("O'Brien-Smith", "latin"),
    ("古丽娜尔·海拉提", "chinese"), ("古丽娜尔 海拉提", "chinese"), ("گۇلنار قايرات", "arabic"),
])
def test_script_error_accepts_names(text: str, script: str) -> None:
    assert script_error(text, script) is None


@pytest.mark.parametrize(("text", "script", "expected"), [
    ("Nurlаn", "latin", "mixes scripts"),
    ("Нұрлан", "chinese", "written in Cyrillic but marked as Chinese"),
    ("Nurlan", "cyrillic", "written in Latin but marked as Cyrillic"),
    ("努尔兰", "arabic", "written in Chinese but marked as Arabic"),
    ("Нұрлан2", "cyrillic", "digits"),
    ("نۇرلان٣", "arabic", "digits"),
    ("Нұр\x00лан", "cyrillic", "control"),
    ("Nurlan\u202e", "latin", "control"),
    ("Nurlan\u00ad", "latin", "control"),
    ("Nurlan!", "latin", "not allowed"),
    ("Nurlan 🙂", "latin", "not allowed"),
    ("\u0304Nurlan", "latin", "not allowed"),
    ("Ολγα", "latin", "script casefile does not record"),
    ("", "latin", "no letters"),
    ("- ·", "latin", "no letters"),
])
def test_script_error_refuses(text: str, script: str, expected: str) -> None:
    error = script_error(text, script)
    assert error is not None and expected in str(error)


def test_script_error_rejects_an_unknown_script() -> None:
    with pytest.raises(ValueError):
        script_error("Nurlan", "greek")
    assert SCRIPTS == ("cyrillic", "latin", "chinese", "arabic")


@pytest.mark.parametrize(("raw", "shown"), [
    ("  Нұрлан \t Тоқтарұлы\u00a0", "Нұрлан Тоқтарұлы"),
    ("Nu\u0304rlan", "Nūrlan"),
    ("努尔兰\u3000托合塔尔", "努尔兰 托合塔尔"),
    ("سهرىك", "سەرىك"),
    ("ساۋله", "ساۋلە"),
    ("هرلان", "ەرلان"),
    ("ءالييا", "ٴالييا"),
    ("کاميلا", "كاميلا"),
    ("قایرات", "قايرات"),
    ("باقىتی", "باقىتى"),
    ("قايرات", "قايرات"),  # ي (и/й) is a Kazakh letter of its own
    ("ماھابباتـ", "ماھاببات"),
    ("هان", "هان"),  # consonant h before a vowel
    ("\ufee7\ufeee\ufead", "نور"),  # presentation forms
])
def test_normalize_display(raw: str, shown: str) -> None:
    assert normalize_display(raw) == shown


@pytest.mark.parametrize("spellings", [
    ["Тоқтар", "Токтар", "Toqtar", "Toktar", "TOKTAR", "Tokhtar", "توقتار", "توقتار\u200c"],
    ["Нұрлан", "Нурлан", "Nūrlan", "Nurlan", "نۇرلان"],
    ["Жұмабек", "Zhumabek", "Jumabek", "Jūmabek", "Djumabek", "جۇمابەك"],
    ["Бақыт", "Бахыт", "Bakyt", "Bakit", "Baqyt", "Bakhyt", "باقىت"],
    ["Серік", "Серик", "Serik", "Serık", "سەرىك"],
    ["Дәулет", "Даулет", "Daulet", "Däulet", "Dawlet", "Dáýlet"],
    ["Айгүл", "Айгуль", "Aigul", "Aygul", "Aıgúl", "Ayğul", "ايگۇل"],
    ["Ержан", "Yerzhan", "Erzhan", "Erjan", "ەرجان", "هرجان"],
    ["Бауыржан", "Бауржан", "Bauyrjan", "BAURZHAN", "باۋىرجان"],
    ["Шыңғыс", "Шынгыс", "Şyñğys", "Shyngys", "Şıñğıs"],
    ["Мұхтар", "Мухтар", "Mūhtar", "Mukhtar", "Muxtar", "مۇحتار"],
    ["Әсел", "Асель", "Assel", "Äsel"],
])
def test_spellings_of_one_name_share_a_skeleton(spellings: list[str]) -> None:
    assert len({skeleton(s) for s in spellings}) == 1, {s: skeleton(s) for s in spellings}


@pytest.mark.parametrize(("a", "b"), [
    ("Ерлан", "Ержан"), ("Жұмабек", "Жұмабай"), ("Серік", "Серікжан"), ("Гүлнар", "Гүлнара"),
    ("Тұрсын", "Тұрсынбек"), ("Бекзат", "Бекжан"), ("Сәуле", "Шәуле"), ("Асқар", "Асхат"), ("Нұрлан", "Нұржан"),
])
def test_different_names_keep_different_skeletons(a: str, b: str) -> None:
    assert skeleton(a) != skeleton(b)


def test_index_tokens_keep_the_name_and_its_stem() -> None:
    tokens = index_tokens("Нұрлан Тоқтарұлы")
    assert {"nurlan$", "toktaruli$", "toktar$", "toktar+"} <= tokens
    assert index_tokens("نۇرلان توقتار ۇلى") == tokens  # ۇلى as a separate word
    assert index_tokens("Toqtarūly Nūrlan") == tokens
    assert {"toktar$", "toktar+"} <= index_tokens("Токтарова Айгуль")
    assert {"jumabai$", "jumabai+"} <= index_tokens("Жумабаев Канат")  # -аев from -ай


@pytest.mark.parametrize(("query", "stored"), [
    ("Ashat", "Асхат"), ("Асхат", "Ashat"), ("Askhat", "Асхат"), ("Асхат", "Askhat"), ("Ashat", "اسحات"),
    ("Шынар", "Shynar"), ("Shynar", "Шынар"), ("Şynar", "Shynar"),
])
def test_both_readings_of_s_h(query: str, stored: str) -> None:
    assert matches(query_tokens(query), index_tokens(stored))
    assert not matches(query_tokens("Sınar", complete=True), index_tokens("Шынар"))


def test_index_tokens_of_a_chinese_name_hold_parts_and_whole() -> None:
    tokens = index_tokens("努尔兰·托合塔尔")
    assert {"努尔兰$", "托合塔尔$", "努尔兰托合塔尔$"} <= tokens
    assert {"nuerlan$", "tuoketaer$", "nuerlantuoketaer$"} <= tokens
    assert index_tokens("努尔兰 • 托合塔尔") == tokens


def test_tokens_are_short_and_non_empty() -> None:
    long_name = "Нұр" * 60 + "ұлы " + "努" * 70 + " " + "A" * 100
    for token in index_tokens(long_name) | set(query_tokens(long_name)):
        assert 0 < len(token) <= 64
    assert index_tokens("- · '") == set() and query_tokens("  ") == []
    assert matches(query_tokens(long_name), index_tokens(long_name))


@pytest.mark.parametrize("query", [
    "Токтаров Нурлан", "TOKTARULY NURLAN", "Toktar", "Тоқтар", "نۇرلان", "努尔兰", "Нұрлан Тоқтарұлы",
    "nurlan toktaruly", "Нұр", "努尔兰·托克塔尔", "NUERLAN TUOHETAER", "Нурлан Токтар ", "توقتار ۇلى",
])
def test_search_examples_find_nurlan(query: str) -> None:
    assert matches(query_tokens(query), _index("Нұрлан Тоқтарұлы", "努尔兰·托合塔尔"))


def test_query_words_before_the_last_are_whole_words() -> None:
    serikzhan = _index("Серікжан Болатұлы")
    assert matches(query_tokens("Серік"), serikzhan)  # still typing
    assert not matches(query_tokens("Серік "), serikzhan)
    assert not matches(query_tokens("Серік Болатұлы"), serikzhan)
    assert not matches(query_tokens("Серік", complete=True), serikzhan)
    assert matches(query_tokens("Болатұлы Серік"), serikzhan)


@pytest.mark.parametrize("person", PEOPLE, ids=lambda p: p["kz_cyrillic_patronymic"])
def test_every_variant_finds_the_person(person: dict) -> None:
    index = _person_index(person)
    for variant in _variants(person):
        for complete in (False, True):
            tokens = query_tokens(variant, complete=complete)
            assert matches(tokens, index), (variant, tokens, sorted(index))


@pytest.mark.parametrize("person", PEOPLE, ids=lambda p: p["kz_cyrillic_patronymic"])
def test_a_full_name_finds_no_other_person_in_the_file(person: dict) -> None:
    for name in (person["kz_cyrillic_patronymic"], person["chinese"]):
        found = [p["kz_cyrillic_patronymic"] for p in PEOPLE
                 if matches(query_tokens(name, complete=True), _person_index(p))]
        assert found == [person["kz_cyrillic_patronymic"]]


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: f"pair{p['pair']}")
def test_confusable_pairs_do_not_find_each_other(pair: dict) -> None:
    checked = 0
    for a in _pair_names(pair["a"]):
        for b in _pair_names(pair["b"]):
            if detect_script(a) != detect_script(b):
                continue
            modes = (True, False) if detect_script(a) == "cyrillic" else (True,)
            for complete in modes:
                for query, other in ((a, b), (b, a)):
                    found = matches(query_tokens(query, complete=complete), index_tokens(other))
                    assert found == (pair["pair"] in SAME_NAME_PAIRS), (query, other, complete)
            checked += 1
    assert checked >= 1


def test_pairs_file_has_the_expected_pairs() -> None:
    assert {p["pair"] for p in PAIRS} >= set(SAME_NAME_PAIRS) | set(range(2, 10))
    assert _pair_names(PAIRS[8]["b"]) == ["Гульнара Серикқызы Кайратова"]


@pytest.mark.parametrize(("cyrillic", "chinese", "variants"), MORE_PEOPLE, ids=[p[0] for p in MORE_PEOPLE])
def test_names_not_in_the_file_are_found_by_their_variants(cyrillic: str, chinese: str, variants: list[str]) -> None:
    index = _more_person_index(cyrillic, chinese)
    given, father = cyrillic.split()
    written = [cyrillic, chinese, cyrillic_to_latin_2021(cyrillic), cyrillic_to_passport(f"{father} {given}"),
               cyrillic_to_tote(cyrillic), *variants]
    for variant in written:
        assert matches(query_tokens(variant), index), (variant, query_tokens(variant), sorted(index))
    for other_cyrillic, other_chinese, _ in MORE_PEOPLE:
        if other_cyrillic != cyrillic:
            other = _more_person_index(other_cyrillic, other_chinese)
            assert not matches(query_tokens(cyrillic, complete=True), other)
            assert not matches(query_tokens(chinese, complete=True), other)


@pytest.mark.parametrize("person", PEOPLE, ids=lambda p: p["kz_cyrillic_patronymic"])
def test_transliterations_agree_with_the_file(person: dict) -> None:
    cyrillic = person["kz_cyrillic_patronymic"]
    given, father = cyrillic.split()
    assert cyrillic_to_latin_2021(cyrillic) == person["kz_latin_2021"]
    assert cyrillic_to_passport(f"{father} {given}") == person["passport_style_latin"]
    assert cyrillic_to_tote(f"{given} {_without_patronymic(father)}") == person["kazakh_arabic_script"]


@pytest.mark.parametrize(("cyrillic", "tote"), [
    ("Әлия", "ٴالييا"), ("Үрімжі", "ٴۇرىمجى"), ("Сәуле", "ساۋلە"), ("Мөлдір", "ٴمولدىر"), ("Айгүл", "ايگۇل"),
    ("Тоқтарұлы", "توقتارۇلى"), ("Шыңғыс Ғалымұлы", "شىڭعىس عالىمۇلى"), ("Дәлелхан", "دالەلحان"),
    ("Вера Юсуп", "ۆەرا يۋسۋپ"),
])
def test_tote_rules(cyrillic: str, tote: str) -> None:
    assert cyrillic_to_tote(cyrillic) == tote


@pytest.mark.parametrize(("cyrillic", "latin", "passport"), [
    ("Шыңғыс Ғалымұлы", "Şyñğys Ğalymūly", "SHYNGYS GALYMULY"),
    ("ӘЛИЯ Иманқызы", "ÄLİİA İmanqyzy", "ALIIA IMANKYZY"),
    ("Чокан Щукин", "Çokan Şşukin", "CHOKAN SHCHUKIN"),
    ("Ерлан Ержанұлы", "Erlan Erjanūly", "YERLAN YERZHANULY"),
    ("Мұхтар-Nurlan", "Mūhtar-Nurlan", "MUKHTAR-NURLAN"),
])
def test_latin_transliterations(cyrillic: str, latin: str, passport: str) -> None:
    assert cyrillic_to_latin_2021(cyrillic) == latin
    assert cyrillic_to_passport(cyrillic) == passport
    assert script_error(latin, "latin") is None and script_error(passport, "latin") is None
