"""The columns an import understands, the headers they are known by, and the values of a few of them.

A header is compared in a folded form (case, spaces, punctuation and the letters Kazakh and
Russian write differently ignored), so ``Аты-жөні``, ``аты жөні`` and ``АТЫ ЖӨНІ`` are one header.
"""

from __future__ import annotations

import re
import unicodedata

from flask_babel import lazy_gettext as _l

# The canonical columns, in the order the mapping step and the README list them, with what each holds.
CANONICAL = {
    "source_ref": _l("The row's number or id in the source list (kept on the case)"),
    "name_cyrillic": _l("Name in Kazakh Cyrillic (or Russian) letters"),
    "name_latin": _l("Name in Latin letters"),
    "name_chinese": _l("Name in Chinese characters"),
    "name_arabic": _l("Name in Arabic-script Kazakh (töte)"),
    "sex": _l("Sex: M or F"),
    "birth_date": _l("Birth date: YYYY, YYYY-MM, YYYY-MM-DD or DD.MM.YYYY"),
    "prc_id": _l("PRC resident ID number (18 characters)"),
    "iin": _l("Kazakh IIN (12 digits)"),
    "hometown": _l("Hometown: a county or prefecture of Xinjiang, village kept as text"),
    "status": _l("Status"),
    "detained_on": _l("Date detained"),
    "detention_place": _l("Place of detention"),
    "reporter_name": _l("Reporter's full name"),
    "reporter_relationship": _l("Reporter's relationship to the person"),
    "reporter_phone": _l("Reporter's phone"),
    "consent_kz_mfa": _l("Consent for the Kazakh Foreign Ministry: yes/no"),
    "consent_prc_embassy": _l("Consent for the PRC embassy: yes/no"),
    "consent_kz_parliament": _l("Consent for the Parliament of Kazakhstan: yes/no"),
    "consent_un": _l("Consent for UN bodies: yes/no"),
    "consent_public": _l("Consent to publish: yes/no"),
    "narrative": _l("What happened"),
}

NAME_COLUMNS = {"name_cyrillic": "cyrillic", "name_latin": "latin", "name_chinese": "chinese", "name_arabic": "arabic"}
CONSENT_COLUMNS = {"consent_kz_mfa": "kz_mfa", "consent_prc_embassy": "prc_embassy",
                   "consent_kz_parliament": "kz_parliament", "consent_un": "un", "consent_public": "public"}

# Headers seen in the lists, in English, Russian and Kazakh (and a few in Chinese), by column.
ALIASES = {
    "source_ref": ["№", "no", "nr", "number", "#", "id", "row", "ref", "reference", "source", "list number",
                   "номер", "№ п/п", "п/п", "порядковый номер", "реттік нөмір", "нөмір", "рет саны", "序号", "编号"],
    "name_cyrillic": ["ФИО", "Ф.И.О.", "фамилия имя отчество", "имя", "Аты-жөні", "аты жөні", "толық аты-жөні",
                      "name cyrillic", "name (cyrillic)", "cyrillic name", "кириллица", "имя кириллицей",
                      "имя на казахском", "қазақша аты"],
    "name_latin": ["name", "full name", "name latin", "name (latin)", "latin name", "латиница", "имя латиницей",
                   "латынша аты", "латын", "name in passport", "имя в паспорте"],
    "name_chinese": ["chinese name", "name chinese", "name (chinese)", "中文名", "中文姓名", "姓名", "имя на китайском",
                     "китайское имя", "қытайша аты", "қытайша аты-жөні", "қытайша"],
    "name_arabic": ["arabic name", "name arabic", "name (arabic)", "arabic-script name", "tote", "төте", "төте жазу",
                    "төте жазуымен", "арабская графика", "имя арабской графикой"],
    "sex": ["sex", "gender", "пол", "жынысы", "жыныс", "性别"],
    "birth_date": ["date of birth", "birth date", "birthdate", "dob", "born", "year of birth", "дата рождения",
                   "год рождения", "туған күні", "туған жылы", "туылған күні", "出生日期"],
    "prc_id": ["prc id", "chinese id", "id number", "prc id number", "resident id", "номер удостоверения кнр",
               "удостоверение кнр", "паспорт кнр", "кнр id", "қхр жеке куәлігі", "қхр куәлігі", "身份证号",
               "身份证", "身份证号码"],
    "iin": ["iin", "иин", "жсн"],
    "hometown": ["hometown", "place of origin", "home town", "address", "родной город", "место жительства",
                 "адрес", "малая родина", "туған жері", "мекенжайы", "тұрғылықты жері", "籍贯", "住址"],
    "status": ["status", "статус", "положение", "мәртебесі", "жағдайы", "қазіргі жағдайы", "状态"],
    "detained_on": ["date detained", "detained on", "detained", "date of detention", "date of arrest",
                    "дата задержания", "дата ареста", "когда задержан", "ұсталған күні", "қамалған күні",
                    "ұсталған уақыты"],
    "detention_place": ["place of detention", "detention place", "where detained", "место содержания",
                        "место заключения", "где содержится", "ұсталған жері", "қамалған жері", "ұсталу орны"],
    "reporter_name": ["reporter", "reporter name", "applicant", "relative", "заявитель", "фио заявителя",
                      "кто сообщил", "өтініш беруші", "арыз беруші", "хабарлаушы"],
    "reporter_relationship": ["relationship", "relation", "relationship to the person", "родство",
                              "кем приходится", "степень родства", "туыстығы", "туыстық қатынасы"],
    "reporter_phone": ["phone", "telephone", "phone number", "contact phone", "телефон", "тел", "тел.",
                       "номер телефона", "телефон нөмірі", "байланыс телефоны"],
    "consent_kz_mfa": ["consent mfa", "consent kz mfa", "mfa consent", "согласие мид", "сім келісімі"],
    "consent_prc_embassy": ["consent embassy", "consent prc embassy", "embassy consent", "согласие посольство",
                            "согласие на посольство", "елшілік келісімі"],
    "consent_kz_parliament": ["consent parliament", "consent kz parliament", "parliament consent",
                              "согласие парламент", "согласие на парламент", "парламент келісімі"],
    "consent_un": ["consent un", "un consent", "согласие оон", "согласие на оон", "бұұ келісімі"],
    "consent_public": ["consent public", "public consent", "consent to publish", "согласие на публикацию",
                       "публичное согласие", "жариялауға келісім"],
    "narrative": ["narrative", "story", "description", "notes", "details", "комментарий", "описание",
                  "примечание", "обстоятельства", "оқиға", "сипаттама", "ескерту", "түсініктеме"],
}

# Kazakh letters folded to the Russian ones a header may be typed with (no Kazakh keyboard).
_HEADER_FOLD = str.maketrans("әғқңөұүһі", "агкноуухи")


def fold_header(header: str) -> str:
    """A header as it is compared: lower case, Kazakh letters folded, only letters, digits and № kept."""
    text = unicodedata.normalize("NFKC", header).casefold().translate(_HEADER_FOLD).replace("ё", "е")
    return re.sub(r"[^\w№#]+", " ", text).replace("_", " ").strip()


def _known_headers() -> dict[str, str]:
    known = {fold_header(column): column for column in CANONICAL}
    for column, aliases in ALIASES.items():
        for alias in aliases:
            known.setdefault(fold_header(alias), column)
    return known


KNOWN_HEADERS = _known_headers()


# Headers that say "name" without saying in which letters: the values' script decides.
GENERIC_NAME_HEADERS = frozenset(fold_header(text) for text in (
    "name", "full name", "фио", "ф.и.о.", "фамилия имя отчество", "имя", "аты-жөні", "толық аты-жөні", "姓名"))


def auto_mapping(headers: list[str], saved: dict[str, str] | None = None,
                 samples: dict[str, list[str]] | None = None) -> dict[str, str]:
    """Header -> canonical column for every header of a file ("" where it is not known).

    A saved mapping decides first; then known names (a generic "name" header by the script of
    its ``samples``). A column is mapped from one header only: a second header with the same
    meaning is left for the user to map.
    """
    from casefile.imports.rows import guess_name_column

    saved = saved or {}
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for header in headers:
        column = saved.get(header)
        if column is None:
            folded = fold_header(header)
            column = KNOWN_HEADERS.get(folded, "")
            if folded in GENERIC_NAME_HEADERS and samples is not None:
                column = guess_name_column(samples.get(header, []))
        if column and column in used:
            column = ""
        mapping[header] = column
        if column:
            used.add(column)
    return mapping


def fold_value(value: str) -> str:
    return fold_header(value)


_YES = {"yes", "y", "да", "д", "иә", "ия", "иа", "ие", "true", "1", "+", "是", "x", "✓"}
_NO = {"no", "n", "нет", "н", "жоқ", "жок", "false", "0", "-", "否", ""}
_IDENTITY = {"identity", "yes with name", "с именем", "да с именем", "атымен", "иә атымен"}


def consent_choice(value: str) -> str | None:
    """"none", "case" (yes) or "identity" (yes, and the reporter may be named); None if unreadable."""
    raw = unicodedata.normalize("NFKC", value).strip().casefold()
    folded = fold_value(value)
    if raw in _YES or folded in _YES:
        return "case"
    if raw in _NO or folded in _NO:
        return "none"
    if folded in {fold_value(text) for text in _IDENTITY}:
        return "identity"
    return None


_SEXES = {"m": "M", "male": "M", "man": "M", "м": "M", "муж": "M", "мужской": "M", "ер": "M", "еркек": "M",
          "男": "M", "f": "F", "female": "F", "woman": "F", "ж": "F", "жен": "F", "женский": "F", "әйел": "F",
          "ә": "F", "女": "F"}


def sex_choice(value: str) -> str | None:
    raw = unicodedata.normalize("NFKC", value).strip().casefold().rstrip(".")
    return _SEXES.get(raw) or _SEXES.get(fold_value(value))


# Statuses by their code, their English label and the words used for them in Russian and Kazakh.
_STATUS_WORDS = {
    "missing": ["missing", "whereabouts unknown", "disappeared", "пропал", "пропал без вести", "пропала",
                "местонахождение неизвестно", "хабарсыз", "хабар ошарсыз", "хабарсыз кеткен", "жоғалған"],
    "camp": ["camp", "in a camp", "detained in a camp", "re-education camp", "лагерь", "в лагере",
             "лагерьде", "лагерде", "қайта тәрбиелеу лагері", "концлагерь"],
    "detention_centre": ["detention centre", "detention center", "detained in a detention centre", "сизо",
                         "следственный изолятор", "тергеу изоляторы", "изолятор"],
    "detained_unknown_place": ["detained place unknown", "detained, place unknown", "задержан место неизвестно",
                               "задержан", "ұсталған орны белгісіз", "ұсталған"],
    "sentenced": ["sentenced", "in prison", "prison", "sentenced / in prison", "осужден", "осуждён", "приговорен",
                  "приговорён", "тюрьма", "в тюрьме", "сотталған", "түрмеде", "түрме"],
    "released_restricted": ["released under surveillance", "house arrest", "released restricted",
                            "освобожден под надзор", "под надзором", "домашний арест", "бақылауда", "үй қамағы"],
    "forced_labour": ["forced labour", "forced labor", "принудительный труд", "принудительные работы",
                      "мәжбүрлі еңбек"],
    "exit_barred": ["exit barred", "passport confiscated", "travel documents confiscated", "запрет на выезд",
                    "паспорт изъят", "шығуға тыйым", "төлқұжаты алынған"],
    "returned": ["returned", "returned to kazakhstan", "вернулся", "вернулась", "вернулся в казахстан",
                 "оралды", "қазақстанға оралды"],
    "deceased": ["deceased", "died", "dead", "умер", "умерла", "погиб", "погибла", "скончался", "қайтыс болды",
                 "қайтыс болған", "қаза тапты"],
    "unknown": ["unknown", "неизвестно", "белгісіз", "не известно"],
}


def _lookup(words_by_code: dict[str, list[str]]) -> dict[str, str]:
    """Folded word -> code, for a vocabulary's codes and the words used for them."""
    out: dict[str, str] = {}
    for code, words in words_by_code.items():
        out[fold_value(code)] = code
        for word in words:
            out.setdefault(fold_value(word), code)
    return out


_STATUSES = _lookup(_STATUS_WORDS)


def status_choice(value: str) -> str | None:
    return _STATUSES.get(fold_value(value))


_RELATIONSHIP_WORDS = {
    "mother": ["mother", "mom", "мать", "мама", "ана", "анасы", "шешесі"],
    "father": ["father", "dad", "отец", "папа", "әке", "әкесі"],
    "spouse": ["spouse", "wife", "husband", "супруг", "супруга", "жена", "муж", "жұбайы", "әйелі", "күйеуі"],
    "son": ["son", "сын", "ұлы", "ұл", "баласы"],
    "daughter": ["daughter", "дочь", "қызы", "қыз"],
    "brother": ["brother", "брат", "аға", "ағасы", "іні", "інісі", "бауыры"],
    "sister": ["sister", "сестра", "апа", "апасы", "әпке", "әпкесі", "қарындас", "қарындасы", "сіңлі", "сіңлісі"],
    "other_relative": ["other relative", "relative", "родственник", "родственница", "туыс", "туысы", "туысқаны"],
    "witness": ["witness", "свидетель", "куә", "куәгер"],
    "former_codetainee": ["former co-detainee", "co-detainee", "former codetainee", "сокамерник",
                          "бывший сокамерник", "бірге отырған"],
}


_RELATIONSHIPS = _lookup(_RELATIONSHIP_WORDS)


def relationship_choice(value: str) -> str | None:
    return _RELATIONSHIPS.get(fold_value(value))
