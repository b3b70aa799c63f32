"""Names in the four scripts casefile records: validation, display form, search tokens, transliteration.

Scripts are ``"cyrillic"`` (Kazakh and Russian), ``"latin"`` (Kazakh 2021, passport, English),
``"chinese"`` (PRC documents) and ``"arabic"`` (Kazakh töte, as written in Xinjiang).

Search folding: the skeleton
----------------------------
Each word of a name folds to a lower-case ASCII *skeleton*, so that the spellings of one Kazakh
name in Cyrillic, Kazakh Latin (2017, 2018 and 2021 alphabets), passport Latin, English or Russian
transcription and Arabic-script töte all meet (``skeleton()``):

* vowels lose the Kazakh distinctions nobody spells the same way twice: ә ä á → a; ө ö ó → o;
  ұ ү у ў ū ü ú ý w ۇ ۋ → u; е э ё é ە → e; и й і ы ı i y ي ى → i;
* consonants: қ к х һ q k h kh x ق ك ح ھ → k; ғ г ğ ǵ g gh ع گ → g; ң ñ ń ng n ڭ → n;
  ж j zh dzh dj ž ج → j; ш щ ş š sh ش → sh; ч ç č ch چ → ch; ц → ts; в ۆ → v; о و → o;
  ъ ь apostrophes and the töte hamza ٴ disappear;
* clean-ups: a word-initial ``ye`` is ``e`` (Yerlan/Ерлан); an ``i`` between ``Vu`` and a
  consonant goes (Бауыржан/Бауржан, Дәуіт/Даут); doubled letters are single (Алия/ALIIA,
  Assel/Әсел, Lazzat/Ләззат) — after the ending is taken off, so Серікқызы still stems to serik;
* ``sh`` is ш in English and passport Latin but с+х in Kazakh Latin 2021 (Асхат → Ashat): the
  index stores both readings of a name that has one, a query is folded with the ш reading.

Letters that carry a real difference stay apart: ``l``/``j`` (Ерлан ≠ Ержан), ``e``/``a``
(Жұмабек ≠ Жұмабай), ``z``/``j``, ``s``/``sh``. Chinese characters with a known reading (those used
to transcribe Kazakh names) become toneless pinyin and then fold like Latin, so 托合塔尔, 托克塔尔
and the PRC passport romanisation TUOHETAER meet; a character without a known reading stays as it is.

Tokens and the match rule
-------------------------
``index_tokens`` stores, for each word of a written name, its skeleton followed by ``$`` ("the
word ends here"). A word with a patronymic or family-name ending (``-ұлы -қызы -uly -qyzy``,
Russian ``-ов -ев -ова -ева -ович -овна``, töte ``ۇلى قىزى`` attached or as a separate word) also
gives its stem followed by ``$`` and by ``+`` ("a father's or family name"). Chinese names give
each part and the whole name in characters and in folded pinyin (also "loose" pinyin, zh/ch/sh →
z/c/s, as PRC romanisations are sometimes written).

``query_tokens`` folds a query the same way: a word followed by more text is complete (``$``),
the last word is a prefix unless ``complete=True`` or the query ends with a separator, a word
with a patronymic/family ending becomes ``stem+``, and the Chinese words of a query join into
one token in their order (Chinese names have a fixed given·father order).

**Match rule:** a person matches when EVERY query token is a prefix of at least one index token
of any of that person's names. So ``Токтаров Нурлан``, ``TOKTARULY NURLAN``, ``Toktar``,
``نۇرلان`` and ``努尔兰`` find ``Нұрлан Тоқтарұлы`` / ``努尔兰·托合塔尔``, while the full
``Серік Болатұлы`` does not find ``Серікжан Болатұлы`` nor ``Тоқтар Нұрланұлы`` find
``Нұрлан Тоқтарұлы``. A patronymic and a Russian surname of the same stem do meet (``Асқарқызы``
and ``Аскарова``): names never decide that two records are one person.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from flask_babel import lazy_gettext as _l

SCRIPTS: tuple[str, ...] = ("cyrillic", "latin", "chinese", "arabic")
SCRIPT_LABELS = {"cyrillic": _l("Cyrillic"), "latin": _l("Latin"), "chinese": _l("Chinese"), "arabic": _l("Arabic")}
MAX_TOKEN = 64
END = "$"  # the word ends here
FAMILY = "+"  # the stem of a patronymic or family name

SEPARATORS = frozenset(" ·•・-.'’‘ʼʻ\u200c\u2010\u2011\u2027\u2219\uff65\uff0e\uff0d\u0640")
JOINERS = frozenset("'’‘ʼʻ\u200c\u0640")  # removed inside a word rather than splitting it
_ARABIC_RANGES = ((0x0600, 0x06FF), (0x0750, 0x077F), (0x08A0, 0x08FF), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF))
_CJK_RANGES = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF), (0x20000, 0x3134F))
_CYRILLIC_RANGES = ((0x0400, 0x052F), (0x1C80, 0x1C8F), (0x2DE0, 0x2DFF), (0xA640, 0xA69F))

_CYR_FOLD = dict(zip(
    "аәбвгғдеёжзийкқлмнңоөпрстуұүўфхһцчшщъыіьэюяєїґ",
    "a a b v g g d e e j z i i k k l m n n o o p r s t u u u u f k k ts C S S _ i i _ e iu ia e i g".split(),
))
_ARABIC_FOLD = dict(zip(
    "اأإآەبپتثجچحخدذرزژسشصضطظعغفقكکگڭلمنوۆۇۋۉىيیئءٴةھه",
    "a a a a e b p t t j C k k d z r z j s S s z t z g g f k k k g n l m n o v u u u i i i _ _ _ e k k".split(),
))
_LATIN_SPECIAL = {"ş": "S", "š": "S", "ç": "C", "č": "C", "ž": "j", "ı": "i", "ý": "u", "ŋ": "n",
                  "ß": "ss", "æ": "ae", "ø": "o", "đ": "d", "ł": "l"}
# S and C stand for ш and ч while folding (input is lower-cased, so they cannot come from it).
_DIGRAPHS = re.compile(r"dzh|dj|zh|kh|gh|sh|ch|ng|[hqxwy]")
_DIGRAPHS_NO_SH = re.compile(r"dzh|dj|zh|kh|gh|ch|ng|[hqxwy]")
_DIGRAPH_MAP = {"dzh": "j", "dj": "j", "zh": "j", "kh": "k", "gh": "g", "sh": "S", "ch": "C", "ng": "n",
                "h": "k", "q": "k", "x": "k", "w": "u", "y": "i"}
_PARTICLES = frozenset({"uli", "kizi"})  # ұлы / қызы written as a separate word
# Longest first; "ev" endings after a vowel come from names in -ай/-ей (Жұмабай → Жумабаев).
_ENDINGS = ("ovich", "evich", "ovna", "evna", "kizi", "uli", "ova", "eva", "ov", "ev")
_MIN_STEM = 3


def _in(ch: str, ranges: tuple[tuple[int, int], ...]) -> bool:
    return any(lo <= ord(ch) <= hi for lo, hi in ranges)


@lru_cache(maxsize=65536)
def _is_cjk(ch: str) -> bool:
    return _in(ch, _CJK_RANGES)


@lru_cache(maxsize=8192)  # names use a few hundred letters; an import checks millions
def _letter_script(ch: str) -> str | None:
    """The script of one letter, or None for a letter of a script casefile does not record."""
    if _in(ch, _CYRILLIC_RANGES):
        return "cyrillic"
    if _is_cjk(ch):
        return "chinese"
    if _in(ch, _ARABIC_RANGES):
        return "arabic"
    if unicodedata.name(ch, "").startswith("LATIN"):
        return "latin"
    return None


@lru_cache(maxsize=8192)
def _is_letter(ch: str) -> bool:
    return unicodedata.category(ch).startswith("L") and ch not in SEPARATORS


def detect_script(text: str) -> str | None:
    """The script of the letters in ``text``; None if it has no letters or mixes scripts.

    Separators, spaces, combining marks, digits and punctuation are not letters and are ignored.
    """
    found = {_letter_script(ch) for ch in unicodedata.normalize("NFC", text) if _is_letter(ch)}
    if len(found) != 1 or None in found:
        return None
    return found.pop()


def _describe(ch: str) -> str:
    return f"“{ch}” (U+{ord(ch):04X})" if ch.isprintable() else f"U+{ord(ch):04X}"


def script_error(text: str, declared: str) -> str | None:
    """None when ``text`` is a well-formed name in the ``declared`` script, else a translatable message.

    Refuses control and invisible formatting characters, digits, characters that are neither
    letters (with their combining marks) nor name separators, letters of other scripts, mixed
    scripts and a script that differs from the declared one. Raises ValueError for an unknown
    ``declared`` script (a programming error, not the user's).
    """
    if declared not in SCRIPTS:
        raise ValueError(f"unknown script {declared!r}")
    text = unicodedata.normalize("NFC", text)
    after_letter = False
    for ch in text:
        category = unicodedata.category(ch)
        if ch.isspace() or ch in SEPARATORS:
            after_letter = False
        elif category in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
            return _l("The name contains a control or invisible character (%(char)s).", char=_describe(ch))
        elif category.startswith("N"):
            return _l("A name cannot contain digits (%(char)s).", char=_describe(ch))
        elif category.startswith("M") and after_letter:
            continue
        elif category.startswith("L"):
            if _letter_script(ch) is None:
                return _l("The name contains a letter of a script casefile does not record: %(char)s.",
                          char=_describe(ch))
            after_letter = True
        else:
            return _l("The name contains a character that is not allowed: %(char)s.", char=_describe(ch))
    scripts = {_letter_script(ch) for ch in text if _is_letter(ch)}
    if not scripts:
        return _l("The name has no letters.")
    if len(scripts) > 1:
        names = ", ".join(str(SCRIPT_LABELS[s]) for s in SCRIPTS if s in scripts)
        return _l("The name mixes scripts (%(scripts)s): a letter may have been typed on the wrong keyboard.",
                  scripts=names)
    actual = scripts.pop()
    if actual != declared:
        return _l("The name is written in %(actual)s but marked as %(declared)s.",
                  actual=SCRIPT_LABELS[str(actual)], declared=SCRIPT_LABELS[declared])
    return None


def _arabic_letter(ch: str) -> bool:
    return _in(ch, _ARABIC_RANGES) and _is_letter(ch)


def normalize_display(text: str) -> str:
    """The form of a name to store and show: NFC, one space between words, no outer spaces.

    Arabic script: presentation forms become letters, the tatweel goes, and look-alikes become the
    Kazakh letters: ک → ك, ء → ٴ, Persian ی → ي where it joins the next letter (where it shows its
    dots) and ى elsewhere, and ه → ە unless a vowel follows (then it is the consonant h).
    Arabic ي and ى are distinct Kazakh letters (и/й and ы/і) and are kept.
    """
    text = unicodedata.normalize("NFC", text)
    text = "".join(unicodedata.normalize("NFKC", ch) if _in(ch, _ARABIC_RANGES[3:]) else ch for ch in text)
    text = " ".join(text.replace("\u0640", "").split())
    out = []
    for i, ch in enumerate(text):
        following = text[i + 1] if i + 1 < len(text) else ""
        if ch == "ک":
            ch = "ك"
        elif ch == "ء":
            ch = "ٴ"
        elif ch == "ی":
            ch = "ي" if following and _arabic_letter(following) else "ى"
        elif ch == "ه" and not (following and following in "اەوۇۋىيی"):
            ch = "ە"
        out.append(ch)
    return "".join(out)


def _fold_chars(word: str, loose: bool = False, other_sh: bool = False) -> str:
    out = []
    for i, ch in enumerate(word):
        low = ch.lower()
        if other_sh and low in "хһحھخ" and i and word[i - 1].lower() in "сس":
            out[-1] = "S"  # с+х read as ш, as English "sh" is read
        elif low in _CYR_FOLD:
            out.append(_CYR_FOLD[low])
        elif ch in _ARABIC_FOLD:
            out.append(_ARABIC_FOLD[ch])
        elif low in _LATIN_SPECIAL:
            out.append(_LATIN_SPECIAL[low])
        elif _is_cjk(ch):
            reading = PINYIN.get(ch, ch)
            out.append(re.sub(r"^([zcs])h", r"\1", reading) if loose else reading)
        else:
            out.extend(c for c in unicodedata.normalize("NFD", low) if "a" <= c <= "z")
    return "".join(out).replace("_", "")


def _fold_latin(s: str, other_sh: bool = False) -> str:
    s = (_DIGRAPHS_NO_SH if other_sh else _DIGRAPHS).sub(lambda m: _DIGRAPH_MAP[m.group()], s)
    if s.startswith("ie"):
        s = s[1:]
    s = re.sub(r"(?<=[aeiou])ui(?=[^aeiou]|$)", "u", s)
    return s.replace("S", "sh").replace("C", "ch")


def _finish(folded: str) -> str:
    # Doubled letters go last, so that Серікқызы still ends in "kizi" when stemmed.
    return re.sub(r"(.)\1+", r"\1", folded)


@lru_cache(maxsize=65536)  # words repeat across names; an import folds hundreds of thousands
def _fold_word(word: str, loose: bool = False, other_sh: bool = False) -> str:
    # other_sh: the other reading of s+h — Kazakh Latin 2021 writes Асхат "Ashat", English writes ш "sh".
    return _fold_latin(_fold_chars(unicodedata.normalize("NFC", word), loose, other_sh), other_sh)


def _skeleton_word(word: str, loose: bool = False) -> str:
    return _finish(_fold_word(word, loose))


def skeleton(text: str) -> str:
    """The search skeleton of ``text``: each word folded (see the module docstring), joined by spaces.

    Spelling variants of one Kazakh name in any script give the same skeleton.
    """
    return " ".join(filter(None, (_skeleton_word(w) for w in _words(normalize_display(text)))))


def _words(text: str) -> list[str]:
    """Split on anything but letters and their marks; apostrophes/ZWNJ join; Chinese splits from the rest."""
    words: list[str] = []
    current = ""
    for ch in text:
        if ch in JOINERS:
            continue
        category = unicodedata.category(ch)
        if category.startswith("M") and current:
            current += ch
        elif category.startswith("L") and ch not in SEPARATORS:
            if current and _is_cjk(ch) != _is_cjk(current[-1]):
                words.append(current)
                current = ""
            current += ch
        elif current:
            words.append(current)
            current = ""
    if current:
        words.append(current)
    return words


def _stem(folded: str) -> str | None:
    """The folded word without a patronymic or family-name ending, or None if it has none."""
    for ending in _ENDINGS:
        if folded.endswith(ending) and len(folded) - len(ending) >= _MIN_STEM:
            stem = folded[: -len(ending)]
            if ending == "uli" and stem.endswith("g"):
                return None  # pinyin 古丽 "guli" (Kazakh гүл) in 阿依古丽 Ayiguli, not ұлы
            return stem + "i" if ending.startswith("ev") and stem[-1] in "aeiou" else stem
    return None


def _latin_words(words: list[str], other_sh: bool = False) -> list[tuple[str, str | None]]:
    """(skeleton, stem) per word; a separate ұлы/қызы marks the word before it and goes."""
    out: list[tuple[str, str | None]] = []
    for word in words:
        folded = _fold_word(word, other_sh=other_sh)
        if not folded:
            continue
        if folded in _PARTICLES and out and out[-1][1] is None:
            previous = out[-1][0]
            out[-1] = (previous + folded, previous)
            continue
        out.append((folded, _stem(folded)))
    return [(_finish(folded), _finish(stem) if stem else None) for folded, stem in out]


def _clip(tokens: list[str]) -> list[str]:
    # Clipping both sides at the same length keeps every prefix relation.
    return [t[:MAX_TOKEN] for t in tokens if t]


def index_tokens(text: str) -> set[str]:
    """The search tokens stored for one written name (see the module docstring for the match rule).

    Every token is non-empty and at most 64 characters long.
    """
    words = _words(normalize_display(text))
    tokens: list[str] = []
    latin = [w for w in words if not _is_cjk(w[0])]
    # Both readings of s+h are stored; a query is folded with the usual one only.
    for folded, stem in _latin_words(latin) + _latin_words(latin, other_sh=True):
        tokens.append(folded + END)
        if stem:
            tokens += [stem + END, stem + FAMILY]
    chinese = [w for w in words if _is_cjk(w[0])]
    if chinese:
        for part in chinese + ["".join(chinese)]:
            tokens += [part + END, _skeleton_word(part) + END, _skeleton_word(part, loose=True) + END]
    return set(_clip(tokens))


def query_tokens(q: str, *, complete: bool = False) -> list[str]:
    """The tokens of a search query, folded and stemmed like ``index_tokens``, in query order.

    The last word is matched as a prefix (the user may still be typing) unless ``complete`` is
    true or the query ends with a space or separator; every other word is a whole word.
    """
    normalized = unicodedata.normalize("NFC", q)
    complete = complete or bool(normalized) and not _is_letter(normalized[-1])
    words = _words(normalize_display(normalized))
    tokens: list[str] = []
    chinese: list[str] = []
    chinese_end = -1
    latin: list[str] = []

    def flush_latin(last: bool) -> None:
        folded_words = _latin_words(latin)
        for i, (folded, stem) in enumerate(folded_words):
            whole = not (last and i == len(folded_words) - 1) or complete
            tokens.append(stem + FAMILY if stem else folded + (END if whole else ""))
        latin.clear()

    for i, word in enumerate(words):
        if _is_cjk(word[0]):
            flush_latin(False)
            if not chinese:
                tokens.append("")  # placeholder keeps the Chinese token where it was typed
            chinese.append(word)
            chinese_end = i
        else:
            latin.append(word)
    flush_latin(True)
    if chinese:
        whole = complete or chinese_end < len(words) - 1
        tokens[tokens.index("")] = _skeleton_word("".join(chinese)) + (END if whole else "")
    return list(dict.fromkeys(_clip(tokens)))


def matches(query: list[str], index: set[str]) -> bool:
    """True when every query token is a prefix of some index token (the app's match rule)."""
    return bool(query) and all(any(token.startswith(q) for token in index) for q in query)


# --- Transliteration from Kazakh Cyrillic -------------------------------------------------

_LATIN_2021 = dict(zip(
    "аәбвгғдеёжзийкқлмнңоөпрстуұүфхһцчшщъыіьэюя",
    "a ä b v g ğ d e io j z i i k q l m n ñ o ö p r s t u ū ü f h h ts ç ş şş _ y ı _ e iu ia".split(),
))
_LATIN_2021_UPPER = {"и": "İ", "й": "İ", "і": "I", "ю": "İu", "я": "İa", "ё": "İo"}
_PASSPORT = dict(zip(
    "аәбвгғдеёжзийкқлмнңоөпрстуұүфхһцчшщъыіьэюя",
    "a a b v g g d e e zh z i i k k l m n n o o p r s t u u u f kh h ts ch sh shch _ y i _ e iu ia".split(),
))
_TOTE = dict(zip(
    "аәбвгғдеёжзийкқлмнңоөпрстуұүфхһцчшщъыіьэюя",
    "ا ا ب ۆ گ ع د ە يو ج ز ي ي ك ق ل م ن ڭ و و پ ر س ت ۋ ۇ ۇ ف ح ھ تس چ ش شش _ ى ى _ ە يۋ يا".split(),
))
_FRONT_VOWELS = frozenset("әөүі")


def _transliterate(text: str, table: dict[str, str], upper: dict[str, str] | None = None) -> str:
    out = []
    for i, ch in enumerate(text):
        low = ch.lower()
        if low not in table:
            out.append(ch)
            continue
        latin = table[low].replace("_", "")
        if ch != low and latin:
            nxt = text[i + 1] if i + 1 < len(text) else ""
            prev = text[i - 1] if i else ""
            shout = nxt.isupper() or (not nxt.isalpha() and prev.isupper())
            first = (upper or {}).get(low, latin[0].upper() + latin[1:])
            latin = first.upper() if shout and len(first) > 1 else first
        out.append(latin)
    return "".join(out)


def cyrillic_to_latin_2021(text: str) -> str:
    """Kazakh Cyrillic in the 2021 Kazakh Latin alphabet, keeping case (Нұрлан Тоқтарұлы → Nūrlan Toqtarūly).

    Letters outside the Kazakh Cyrillic alphabet pass through unchanged.
    """
    return _transliterate(unicodedata.normalize("NFC", text), _LATIN_2021, _LATIN_2021_UPPER)


def cyrillic_to_passport(text: str) -> str:
    """Kazakh Cyrillic as plain capital Latin of Kazakhstan passports (Тоқтарұлы Ержан → TOKTARULY YERZHAN).

    No diacritics; a word-initial Е is YE. Word order is kept (passports put the surname first).
    """
    text = unicodedata.normalize("NFC", text)
    latin = re.sub(r"[^\W\d_]+", lambda m: ("ye" if m.group()[0] in "Ее" else "")
                   + _transliterate(m.group()[m.group()[0] in "Ее":], _PASSPORT), text)
    return "".join(c for c in unicodedata.normalize("NFD", latin) if not unicodedata.combining(c)).upper()


def cyrillic_to_tote(text: str) -> str:
    """Kazakh Cyrillic in Arabic-script töte (Нұрлан Тоқтар → نۇرلان توقتار).

    A word with ә ө ү і gets a leading hamza ٴ unless it contains ك, گ or ە, which already mark
    it as front-vowelled. Characters outside the Kazakh Cyrillic alphabet pass through.
    """
    def word(match: re.Match[str]) -> str:
        source = match.group().lower()
        arabic = "".join(_TOTE.get(ch, ch) for ch in source).replace("_", "")
        front = any(ch in _FRONT_VOWELS for ch in source) and not any(ch in arabic for ch in "كگە")
        return ("ٴ" if front else "") + arabic

    return re.sub(r"[^\W\d_]+", word, unicodedata.normalize("NFC", text))


# Toneless pinyin of the characters PRC documents use to transcribe Kazakh (and Uyghur) names,
# read as they are read in names (卡 ka, 扎 zha, 叶 ye, 什 shi); polyphones take the name reading.
_PINYIN_TABLE = """
a阿啊 ai艾爱哎 an安 ang昂 ao奥傲 ba巴八拔 bai拜白百柏 ban班 bao包保宝 bei贝北 ben本 bi比毕碧 bian边
bie别 bin宾斌 bo波博勃伯 bu布不 cai才彩蔡 can灿 cha查察茶 chang常昌 chao朝 che车彻 chen陈晨
cheng成程 chi赤 chu楚 chun春 ci茨慈 cuo措 da达大答 dai代岱戴 dan丹旦 dao道刀 de德得 deng登邓
di迪地狄帝娣 dian典 ding丁 dong东 du杜都督 duo多朵 e额鄂厄娥 en恩 er尔儿耳 fa法 fan凡 fei菲费
fu夫福弗甫富 ga尕嘎 gai盖 gan甘干 gang刚冈 gao高 ge格戈哥歌葛 gen根 gong贡 gu古谷 gua瓜
guan关 gui贵桂 guo国果 ha哈 hai海 han汗罕汉涵 hang杭航 hao豪好 he合赫何和河贺 hei黑 heng亨
hong洪红 hu胡呼虎 hua华花 huan欢 hui辉惠 huo霍火 ji吉基季姬纪 jia加佳嘉家贾 jian坚建
jiang江疆姜 jie杰洁捷 jin金锦晋津 jiu久 ju居菊巨 juan娟 jun君俊 ka卡喀 kai开凯 kan坎侃
kang康 kao考 ke克科柯可客 ken肯 ku库酷 kuan宽 kun昆 la拉腊啦 lai来莱赖 lan兰蓝岚 lang朗郎
lao劳 le勒乐 lei雷蕾 li力里丽利莉理立黎李 lian连莲 liang良亮 lie列烈 lin林琳霖麟 ling玲铃灵
liu留刘柳 long龙 lu鲁卢路露陆禄吕 lun伦 luo罗洛 ma马玛麻 mai买麦迈 man曼满蔓 mao毛茂
mei美梅玫 men门 meng蒙孟 mi米密蜜 min敏民 ming明 mo莫默墨漠 mu木穆姆慕 na那纳娜拿 nai乃奈
nan南楠 ne讷 ni尼妮倪 nie聂 nu努奴 nuo诺 pa帕 pan潘盼 pei佩培 pi皮 pu普朴 qi齐奇其琪启祺
qia恰 qian千倩 qiao乔 qie切 qin钦秦 qiu丘秋 qu曲屈 re热 ren任仁 ri日 rong荣蓉 rou肉柔 ru如茹汝
rui瑞 sa萨撒 sai赛塞 san三 sang桑 se色瑟 sen森 sha沙莎 shan山珊善 shang尚 she舍 shen申深
sheng生胜 shi什师史石诗 shu舒 si斯司思丝 song松 su苏素肃 sun孙 suo索 ta塔他 tai太泰 tan坦谈
tang汤唐 tao陶涛 te特 teng腾 ti提蒂体 tian天田 tie铁 ting廷婷 tong通同 tu吐图土涂 tuo托拖陀
wa瓦娃哇 wan万婉宛 wang旺王 wei威维韦伟卫薇 wen温文 wo沃 wu乌吾武伍务 xi西希锡喜 xia夏霞
xian先仙贤 xiang香祥翔 xie谢协 xin辛欣新鑫 xiu秀修 xu旭许徐 xue雪学 xun逊迅寻 ya亚雅娅牙
yan燕艳延彦颜严 yang扬阳杨洋 yao姚耀 ye叶耶也野 yi伊依衣义亿怡意 yin因银殷音 ying英迎颖
yong勇永 you尤友优 yu玉于余宇雨禹育裕 yuan园元源媛 yue月悦 yun云芸蕴 za匝 zai再在载 zan赞
zha扎 zhan占展詹 zhang张章 zhao赵昭 zhe哲者折 zhen珍真振 zheng正政 zhi芝之志智 zhong钟忠
zhu朱珠祝竹 zhuo卓 zi孜兹子姿紫资自 zu祖足 zuo佐左 zong宗
"""
PINYIN: dict[str, str] = {ch: reading for reading, chars in re.findall(r"([a-z]+)(\S+)", _PINYIN_TABLE)
                          for ch in chars}
