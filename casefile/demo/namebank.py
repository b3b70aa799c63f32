"""A bank of common Kazakh names for fictional people: the demo organisation and the benchmark data.

Every person made here is fictional: a given name and a father's name drawn at random. Each name
is kept in Kazakh Cyrillic with the Chinese transcription PRC documents use, following their
habits rather than pinyin (final -t → 提, q before a consonant → 合, -zhan → 江, -gül → 古丽).
The Latin and Arabic-script forms are derived with ``casefile.people.names``.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from casefile.people.names import cyrillic_to_latin_2021, cyrillic_to_tote


def _bank(text: str) -> tuple[tuple[str, str], ...]:
    """(Cyrillic, Chinese) pairs from lines of ``Cyrillic 汉字`` couples."""
    words = text.split()
    return tuple(zip(words[::2], words[1::2]))


MALE_NAMES = _bank("""
Нұрлан 努尔兰 Серік 赛力克 Ерлан 叶尔兰 Ержан 叶尔江 Бақыт 巴合提 Қанат 哈那提 Дәулет 达吾列提
Мұрат 木拉提 Асқар 阿斯卡尔 Болат 波拉提 Тоқтар 托合塔尔 Бақытжан 巴合提江 Бекзат 别克扎提 Еркен 叶尔肯
Ерзат 叶尔扎提 Алтынбек 阿勒腾别克 Марат 马拉提 Қайрат 海拉提 Бауыржан 包尔江 Дәулетхан 达吾列提汗
Серікжан 赛力克江 Жұмабек 居马别克 Нұрбек 努尔别克 Ермек 叶尔麦克 Арман 阿尔曼 Айдос 艾多斯
Ерболат 叶尔波拉提 Жомарт 卓马尔提 Талғат 塔力哈提 Мағжан 马合江 Ахмет 阿合买提 Асхат 阿斯哈提
Нұржан 努尔江 Қуаныш 库瓦尼西 Сәбит 沙比提 Төлеген 托列根 Әділ 阿地里 Ерік 叶力克 Қайсар 开沙尔
Дархан 达尔汗 Жандос 加恩多斯 Сұлтан 苏里坦 Ғалым 哈力木 Мақсат 马合沙提 Аманжол 阿曼卓勒
Ерназар 叶尔那扎尔 Бағдат 巴合达提 Құрманбек 库尔曼别克 Тұрсын 吐尔逊 Тұрсынбек 吐尔逊别克 Жұмабай 居马拜
Қалибек 哈力别克 Мұхтар 木合塔尔 Дулат 杜拉提 Дәлелхан 达列力汗 Бекжан 别克江 Есен 叶森 Абай 阿拜
Қасым 哈斯木 Ерден 叶尔登 Бекболат 别克波拉提 Нұрғали 努尔哈力 Саят 沙亚提 Темірлан 铁木尔兰 Омар 吾马尔
Әлібек 阿里别克 Кенжебек 肯杰别克 Жанболат 加恩波拉提 Ақылбек 阿合勒别克 Исатай 伊萨泰 Серікболат 赛力克波拉提
Оралхан 沃拉勒汗 Мейрам 买热木 Бекмұрат 别克木拉提 Ербол 叶尔波力 Жақсылық 加合斯勒克 Дүйсен 杜伊森
Ораз 吾拉孜 Хасен 哈森 Қадыр 卡德尔 Ислам 伊斯拉木 Жеңіс 杰恩斯
""")

FEMALE_NAMES = _bank("""
Айгүл 阿依古丽 Гүлнар 古丽娜尔 Майра 玛依拉 Сәуле 萨吾列 Жанар 加娜尔 Айнұр 阿依努尔 Айдана 阿依达娜
Гүлзина 古丽孜娜 Камила 卡米拉 Жанаргүл 加娜古丽 Ардақ 阿尔达克 Гүлмира 古丽米拉 Дина 迪娜
Назгүл 娜孜古丽 Мәдина 玛地娜 Салтанат 萨勒塔娜提 Ботагөз 波塔古孜 Гүлшат 古丽夏提 Ақмарал 阿合玛拉勒
Мөлдір 莫勒德尔 Ләззат 拉扎提 Шынар 西纳尔 Гүлбаршын 古丽巴尔申 Күләш 库拉西 Зәуре 扎吾热 Үміт 乌米提
Бибігүл 比比古丽 Гүлсім 古丽森 Жұлдыз 居勒德孜 Назерке 娜孜尔克 Динара 迪娜拉 Айым 阿依木 Сара 萨拉
Арайлым 阿热依勒木 Гаухар 高哈尔 Гүлнұр 古丽努尔 Әсел 阿赛丽 Ақбота 阿合波塔 Мейіргүл 美依尔古丽
Раушан 热吾山 Ұлжан 吾勒江 Күлпаш 库勒帕西 Перизат 佩丽扎提 Зейнеп 再依奈甫 Бақытгүл 巴合提古丽
""")

# Fathers are a generation older: the male names above plus names common among men born 1900–1970.
FATHER_NAMES = MALE_NAMES + _bank("""
Сәрсенбай 沙尔森拜 Жақып 加合甫 Мұқан 木坎 Шәріп 夏里甫 Серікбай 赛力克拜 Сейітқали 赛依提哈力
Құсайын 库萨因 Бейсен 别森 Мұқаш 木卡西 Тәкен 塔肯 Рахмет 热合买提 Кәрім 卡热木 Шәкен 夏肯
Ахметжан 阿合买提江 Мұсабек 木沙别克 Жүсіп 居素甫 Нұртай 努尔太 Байжан 拜江 Тоқан 托坎 Мамыр 马木尔
Базарбай 巴扎尔拜 Зарлық 扎尔勒克
""")

DOCUMENT_SEPARATORS = ("·", "·", "·", "·", "·", "·", "•", "・", " ")
_RUSSIAN = str.maketrans("әғқңөұүһіӘҒҚҢӨҰҮҺІ", "агкноуухиАГКНОУУХИ")
_HUSHING = "жшчщц"
_VOWELS = "аеиоуыэюяәөұүі"


@dataclass(frozen=True)
class FictionalPerson:
    """One fictional person: sex, birth year and every written form of their name.

    ``names`` holds (script, kind, text) rows; the first row is always the Kazakh Cyrillic
    patronymic form marked ``"primary"``, the second the Chinese ``"document"`` form.
    """

    sex: str
    names: list[tuple[str, str, str]]
    birth_year: int

    @property
    def primary(self) -> str:
        """The Kazakh Cyrillic name (given name and patronymic)."""
        return self.names[0][2]


def russian_form(name: str) -> str:
    """A Kazakh Cyrillic name as Russian spelling writes it (Нұрлан → Нурлан, Айгүл → Айгуль)."""
    # Russian softens the л of гүл (Гульнар, Айгуль), and only there: Мұрат stays Мурат.
    return re.sub(r"([Гг])ул(?![аеиоуыэюяь])", r"\1уль", name.translate(_RUSSIAN))


def russian_surname(father: str, sex: str) -> str:
    """A Russian-style family name from the father's name (Тоқтар → Токтаров / Токтарова)."""
    stem = russian_form(father)
    if stem.endswith("й"):
        stem, ending = stem[:-1], "ев"
    elif stem[-1] in _HUSHING or stem[-1] in _VOWELS:
        ending = "ев"
    else:
        ending = "ов"
    return stem + ending + ("а" if sex == "F" else "")


def fictional_person(rng: random.Random) -> FictionalPerson:
    """A fictional Kazakh person with names in all four scripts; the same ``rng`` state gives the same person.

    Names: Cyrillic ``primary`` (Нұрлан Тоқтарұлы), Chinese ``document`` (努尔兰·托合塔尔), Latin 2021
    ``alias`` (Nūrlan Toqtarūly), Arabic-script ``alias`` (نۇرلان توقتار with or without ۇلى) and,
    for about 30%, a Russian-style Cyrillic ``alias`` with the surname first (Токтаров Нурлан).
    """
    sex = "M" if rng.random() < 0.7 else "F"
    given, given_zh = rng.choice(MALE_NAMES if sex == "M" else FEMALE_NAMES)
    father, father_zh = rng.choice(FATHER_NAMES)
    suffix = "ұлы" if sex == "M" else "қызы"
    primary = f"{given} {father}{suffix}"
    arabic = cyrillic_to_tote(f"{given} {father}")
    if rng.random() < 0.5:
        arabic += " " + cyrillic_to_tote(suffix)
    names = [
        ("cyrillic", "primary", primary),
        ("chinese", "document", f"{given_zh}{rng.choice(DOCUMENT_SEPARATORS)}{father_zh}"),
        ("latin", "alias", cyrillic_to_latin_2021(primary)),
        ("arabic", "alias", arabic),
    ]
    if rng.random() < 0.3:
        names.append(("cyrillic", "alias", f"{russian_surname(father, sex)} {russian_form(given)}"))
    return FictionalPerson(sex=sex, names=names, birth_year=rng.randint(1940, 2000))
