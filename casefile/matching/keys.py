"""Comparison keys for one written name: its parts, their roles and two Latin forms each.

``person_name_keys("Нұрлан Тоқтарұлы")`` and ``person_name_keys("努尔兰·托克塔尔")`` both give a
given name ``nurlan`` and a father's name ``toqtar``: the parts are found and labelled first,
then each is spelled in one Latin form, so that comparing two names compares given name with
given name and father with father (Нұрлан Тоқтарұлы and Тоқтар Нұрланұлы are father and son).

Normalising (before anything else): NFC; Arabic-script look-alikes (ە/ه, ٴ/ء, ي/ى/ی, ك/ک) as in
``casefile.people.names.normalize_display``; words split on spaces and any separator (Chinese on
· • ・ - . too; elsewhere a hyphen joins: Нұр-Сұлтан); case; Latin ``Ye-`` opening a word is E.

Roles:

* a patronymic gives the father's name: ``-ұлы -улы -қызы -кызы`` (also written apart, "Тоқтар
  ұлы"), Latin ``-uly -ūly -kyzy -qyzy``, töte ``ۇلى قىزى``, Russian ``-ович -евич -овна -евна``;
* a Russian-style family name (``-ов -ев -ова -ева``, in any position: passports put it first)
  gives a *surname*, usually made from the father's (or grandfather's, or husband's) name;
* the first other word is the given name. Chinese names are always ``given·father``;
* without any of these marks (``Тоқтар Нұрлан``, ``SERIK BOLAT``, ``نۇرلان توقتار``), the first word
  is taken for the given name and the second for the father's, but ``order_known`` is False:
  such names are written in both orders, and comparisons try both.

Keys: ``key`` is one Latin spelling for every script — Kazakh Latin without the letters other
sources cannot write (ä ö ü ū ı ğ fold to a o u u i g), ж j, ш ş, ч ç, х/kh h, ң ñ, and қ/к
written q or k by vowel harmony, so that Токтар, Тоқтар, TOKTAR, 托合塔尔 and 托克塔尔 all give
``toqtar``. ``phonetic`` is coarser, for spellings that differ by sound-alikes: q/k/h → k,
o/u → u, y/i → i, ñ/ng → n, doubled letters single (``tuktar``). A Chinese part (and a Latin word
that is a PRC pinyin romanisation, NUERLAN) also keeps its ``lattice``: the phonetic readings of
each character (see ``chinese``), compared by the best path through them.

``part_distance`` is a weighted edit distance over phonetic keys: a vowel costs less than a
consonant and the reduced vowel i (ы/і, often dropped: Бауыржан/Бауржан, 巴合提 for Бақыт) least.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache

from casefile.matching import chinese
from casefile.people.names import normalize_display

GIVEN, FATHER, SURNAME, OTHER, WHOLE = "given", "father", "surname", "other", "whole"

_APOSTROPHES = "'’‘ʼʻ`´"
_JOINERS = "\u200c\u200d\u0640"

_CYRILLIC = dict(zip(
    "аәбвгғдеёжзийкқлмнңоөпрстуұүфхһцчшщъыіьэюя",
    "a ä b v g ğ d e io j z i i k q l m n ñ o ö p r s t u ū ü f h h c ç ş ş _ y ı _ e iu ia".split(),
))
_ARABIC = dict(zip(
    "اٵبپتجچحخدذرزژسشصضطظعغفقكگڭلمنوۇۆۋۉىيئھهەة",
    "a ä b p t j ç h h d z r z j s ş s z t z ğ ğ f q k g ñ l m n o u v u ö y i _ h h e e".split(),
))
_FRONTING = str.maketrans("aouy", "äöüı")  # a töte word marked front (ٴ, or ك گ ە in it)
_LATIN_DIGRAPHS = re.compile(r"dzh|dj|zh|sh|ch|kh|gh|[sczng][" + _APOSTROPHES + "]")
_LATIN_DIGRAPH_MAP = {"dzh": "j", "dj": "j", "zh": "j", "sh": "ş", "ch": "ç", "kh": "h", "gh": "ğ"}
_LATIN_LETTERS = {"á": "ä", "ó": "ö", "ú": "ü", "ý": "u", "ǵ": "ğ", "ń": "ñ", "w": "u", "x": "h",
                  "š": "ş", "č": "ç", "ž": "j", "ŋ": "ñ", "ī": "i", "é": "e", "è": "e", "ê": "e"}
_LATIN_KEEP = frozenset("äöüūığşçñ")
_KAZAKH_2021 = frozenset("äöüūığşñq")
_KEY_FOLD = str.maketrans("äöüūığ", "aouuig")
_BACK, _FRONT, _NEUTRAL = frozenset("aoūy"), frozenset("äöüıe"), frozenset("ui")
_VOWELS_RAW = _BACK | _FRONT | _NEUTRAL
_PHONETIC = str.maketrans({"q": "k", "h": "k", "o": "u", "y": "i", "ñ": "n", "w": "u"})
VOWELS = frozenset("aeiu")

# Endings, on the key folded further (q→k, y→i): longest first.
_PATRONYMIC = {"kizi": "F", "uli": "M", "ovic": "M", "evic": "M", "ovna": "F", "evna": "F"}  # c: ч
_SURNAME = {"ova": "F", "eva": "F", "ov": "M", "ev": "M"}
_ENDINGS = sorted([(e, sex, "patronymic") for e, sex in _PATRONYMIC.items()]
                  + [(e, sex, "surname") for e, sex in _SURNAME.items()], key=lambda e: -len(e[0]))
_PARTICLES = {"uli": "M", "kizi": "F"}
_MIN_STEM = 3


@dataclass(frozen=True)
class NamePart:
    """One part of a name: as written, its role and its comparison keys (see the module docstring)."""

    text: str
    role: str
    key: str
    phonetic: str
    lattice: tuple[tuple[str, ...], ...] = ()
    variants: tuple[str, ...] = ()  # other phonetic readings of the same spelling (Latin "sh": ш or с+х)
    signature: str = field(default="", compare=False, repr=False)  # what comparisons depend on, as one string

    def __post_init__(self) -> None:
        if not self.signature:
            source = self.text if self.lattice else ""
            object.__setattr__(self, "signature", "|".join((self.phonetic, *self.variants, source)))


@dataclass(frozen=True)
class NameKeys:
    """A written name taken apart: ``parts`` in written order, each with a role.

    ``order_known`` is True when the roles come from a patronymic, a family-name ending or the
    fixed Chinese order, False when they were guessed from word order. ``sex`` is what the
    endings say ("M" for -ұлы/-ов, "F" for -қызы/-ова), or None.
    """

    text: str
    script: str | None
    parts: tuple[NamePart, ...]
    order_known: bool
    sex: str | None

    def part(self, role: str) -> NamePart | None:
        """The first part with ``role``, or None."""
        return next((p for p in self.parts if p.role == role), None)

    @property
    def given(self) -> NamePart | None:
        return self.part(GIVEN) or self.part(WHOLE)

    @property
    def father(self) -> NamePart | None:
        return self.part(FATHER)

    @property
    def surname(self) -> NamePart | None:
        return self.part(SURNAME)


# -- words and their Latin forms ----------------------------------------------------------


def _is_cjk(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" or "\U00020000" <= ch <= "\U0003134f"


def _words(text: str) -> list[str]:
    """Split on spaces and separators; Chinese also on · • ・ - . ; a hyphen joins other words."""
    text = "".join(ch for ch in text if ch not in _JOINERS)
    words: list[str] = []
    current = ""
    for ch in text:
        letter = unicodedata.category(ch)[0] in "LM" or ch in _APOSTROPHES
        if letter and current and _is_cjk(ch) != _is_cjk(current[-1]):
            words.append(current)
            current = ""
        if letter:
            current += ch
        elif ch in "-‐‑" and current and not _is_cjk(current[-1]):
            continue  # Нұр-Сұлтан is one given name
        elif current:
            words.append(current)
            current = ""
    if current:
        words.append(current)
    return [w for w in words if any(unicodedata.category(c)[0] == "L" for c in w)]


def _from_cyrillic(word: str) -> str:
    return "".join(_CYRILLIC.get(ch, ch) for ch in word.lower()).replace("_", "")


def _from_arabic(word: str) -> str:
    front = any(ch in word for ch in "ٴكگە")
    latin = "".join(_ARABIC.get(ch, "") for ch in word).replace("_", "")
    return latin.translate(_FRONTING) if front else latin


def _from_latin(word: str, sh_is_s_h: bool = False) -> str:
    word = unicodedata.normalize("NFC", word.lower())
    if sh_is_s_h:
        word = word.replace("sh", "s\u0000h")
    word = _LATIN_DIGRAPHS.sub(lambda m: _LATIN_DIGRAPH_MAP.get(m.group()) or
                               {"s": "ş", "c": "ç", "z": "j", "n": "ñ", "g": "ğ"}[m.group()[0]], word)
    out = []
    for ch in word:
        ch = _LATIN_LETTERS.get(ch, ch)
        if ch not in _LATIN_KEEP:  # other accents go: é → e, a stray combining mark → nothing
            ch = "".join(c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c))
        if ch not in _APOSTROPHES and ch != "\u0000":
            out.append(ch)
    latin = "".join(out)
    return latin[1:] if latin.startswith("ye") else latin  # Yerlan, YERZHAN: Е opening a word


def _harmony(raw: str) -> str:
    """Write k or q by the vowels around it: q with back vowels (a o ū y), k with front ones."""
    out = list(raw)
    vowels = [(i, c) for i, c in enumerate(raw) if c in _VOWELS_RAW]
    for i, ch in enumerate(raw):
        if ch not in "kq":
            continue
        following = [c for j, c in vowels if j > i]
        preceding = [c for j, c in reversed(vowels) if j < i]
        order = following + preceding if i + 1 < len(raw) and raw[i + 1] in _VOWELS_RAW else preceding + following
        decided = next((c for c in order if c not in _NEUTRAL), None)
        if decided is not None:
            out[i] = "q" if decided in _BACK else "k"
    return "".join(out)


def to_key(raw: str) -> str:
    """The comparison key of a word already in (Kazakh) Latin letters."""
    key = _harmony(raw).translate(_KEY_FOLD)
    return "".join(ch for ch in key if ch.isalpha())


def phonetic(key: str) -> str:
    """The coarse phonetic key of a comparison key: toqtar → tuktar, şyñğys → şinis."""
    folded = key.translate(_PHONETIC).replace("ng", "n")
    return re.sub(r"(.)\1+", r"\1", folded)


def _lattice_phonetic(lat: tuple[tuple[str, ...], ...]) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(dict.fromkeys(phonetic(r.translate(_KEY_FOLD)) for r in options)) for options in lat)


def _script_of(word: str) -> str:
    """The script of a word, from its first letter (``person_name_keys`` splits words by script)."""
    ch = word[0]
    if _is_cjk(ch):
        return "chinese"
    if "\u0400" <= ch <= "\u052f" or "\u1c80" <= ch <= "\u1c8f" or "\ua640" <= ch <= "\ua69f":
        return "cyrillic"
    if "\u0600" <= ch <= "\u08ff" or "\ufb50" <= ch <= "\ufeff":
        return "arabic"
    return "latin"


@dataclass
class _Word:
    text: str
    raw: str  # Kazakh-Latin letters before folding
    lattice: tuple[tuple[str, ...], ...] = ()
    chinese: bool = False
    mark: str | None = None  # "patronymic" | "surname"
    sex: str | None = None
    other: str | None = None  # the other reading of Latin "sh" (с+х), stem cut like ``raw``


def _word(text: str) -> _Word:
    read = _read_word(text)  # cached; the copy may get its ending cut
    return _Word(read.text, read.raw, read.lattice, read.chinese, other=read.other)


@lru_cache(maxsize=65536)
def _read_word(text: str) -> _Word:
    script = _script_of(text)
    if script == "chinese":
        return _Word(text, chinese.preferred_reading(text), _lattice_phonetic(chinese.lattice(text)), True)
    if script == "cyrillic":
        return _Word(text, _from_cyrillic(text))
    if script == "arabic":
        return _Word(text, _from_arabic(text))
    raw = _from_latin(text)
    pinyin = chinese.pinyin_lattice(text.lower())  # NUERLAN, YEERZHATI: read before zh → j, x → h
    word = _Word(text, raw, _lattice_phonetic(pinyin) if pinyin else ())
    if "sh" in text.lower():
        word.other = _from_latin(text, sh_is_s_h=True)  # see person_name_keys
    return word


_PLAIN = str.maketrans({"q": "k", "y": "i", "ç": "c"})


def _plain(raw: str) -> str:
    """``raw`` folded letter for letter (same length), for finding endings: Тоқтарұлы → toktaruli."""
    return raw.translate(_KEY_FOLD).translate(_PLAIN)


def _mark_ending(word: _Word) -> None:
    """Find a patronymic or family-name ending; cut it from ``word.raw`` and mark the word."""
    plain = _plain(word.raw)
    for ending, sex, mark in _ENDINGS:
        if not plain.endswith(ending) or len(plain) - len(ending) < _MIN_STEM:
            continue
        if ending == "uli" and plain[-4] == "g":
            return  # 古丽 "guli" in pinyin (Ayiguli), not ұлы
        stem = word.raw[: -len(ending)]
        other = word.other[: -len(ending)] if word.other and len(word.other) > len(ending) else None
        if ending.startswith("ev") and stem[-1] in _VOWELS_RAW:
            stem, other = stem + "i", other + "i" if other else None  # Жумабаев from Жұмабай
        word.raw, word.other, word.mark, word.sex, word.lattice = stem, other, mark, sex, ()
        return


def _attach_particles(words: list[_Word]) -> list[_Word]:
    """A separate ұлы / қызы makes the word before it a patronymic."""
    out: list[_Word] = []
    for word in words:
        particle = _PARTICLES.get(_plain(word.raw)) if not word.chinese else None
        if particle and out and out[-1].mark is None and not out[-1].chinese:
            out[-1].mark, out[-1].sex = "patronymic", particle
            out[-1].text += " " + word.text
            continue
        out.append(word)
    return out


def _part(word: _Word, role: str) -> NamePart:
    return _make_part(word.text, role, word.raw, word.other, word.lattice)


@lru_cache(maxsize=65536)
def _make_part(text: str, role: str, raw: str, other_raw: str | None, lattice: tuple[tuple[str, ...], ...]) -> NamePart:
    key = to_key(raw)
    other = phonetic(to_key(other_raw)) if other_raw else None
    return NamePart(text, role, key, phonetic(key), lattice, (other,) if other and other != phonetic(key) else ())


def _normalize(text: str) -> str:
    if any("\u0600" <= ch <= "\u08ff" or "\ufb50" <= ch <= "\ufeff" for ch in text):
        return normalize_display(text)  # Arabic look-alikes and presentation forms
    return " ".join(unicodedata.normalize("NFC", text).split())


@lru_cache(maxsize=65536)
def person_name_keys(text: str, script: str | None = None) -> NameKeys:
    """Take a written name apart into roles and keys (see the module docstring).

    ``script`` is what the record says the name is written in; the letters decide in the end
    (a name typed in the wrong column still works). Empty input gives no parts.
    """
    normalized = _normalize(text)
    words = [_word(w) for w in _words(normalized)]
    words = [w for w in words if w.raw]
    if any(ch in _KAZAKH_2021 for ch in normalized.lower()):
        # Kazakh Latin 2021 writes ш as ş, so its "sh" is с+х (Асхат → Ashat); English "sh" is ш.
        for word in words:
            if word.other:
                word.raw, word.other = word.other, word.raw
    script = script or (_script_of(words[0].text) if words else None)
    if words and all(w.chinese for w in words):
        roles = [GIVEN, FATHER] + [OTHER] * (len(words) - 2)
        if len(words) == 1 and len(words[0].text) >= 6:
            roles = [WHOLE]
        parts = tuple(_part(w, r) for w, r in zip(words, roles))
        return NameKeys(normalized, script, parts, True, None)
    words = _attach_particles(words)
    for word in words:
        if word.mark is None and not word.chinese:
            _mark_ending(word)
    marked = [w for w in words if w.mark]
    roles: list[str] = []
    have_father = have_surname = have_given = False
    for word in words:
        if word.mark == "patronymic" and not have_father:
            roles.append(FATHER)
            have_father = True
        elif word.mark == "surname" and not have_surname:
            roles.append(SURNAME)
            have_surname = True
        elif not have_given:
            roles.append(GIVEN)
            have_given = True
        elif not marked and not have_father:
            roles.append(FATHER)
            have_father = True
        else:
            roles.append(OTHER)
    sexes = {w.sex for w in marked}
    sex = sexes.pop() if len(sexes) == 1 else None
    order_known = bool(marked) or len(words) == 1
    parts = tuple(_part(w, r) for w, r in zip(words, roles))
    return NameKeys(normalized, script, parts, order_known, sex)


# -- distance between parts ------------------------------------------------------------------

# і/ү and ы/ұ trade places between Kazakh and Russian spellings (Жүсіп / Жусуп, Тұрсын / Турсун).
_VOWEL_SUB = {frozenset("ae"): 0.6, frozenset("ei"): 0.6, frozenset("iu"): 0.4}
_CONSONANT_SUB = {frozenset("pf"): 0.3, frozenset("bp"): 0.6, frozenset("dt"): 0.6, frozenset("kg"): 0.6,
                  frozenset("zs"): 0.6, frozenset("çş"): 0.6, frozenset("sş"): 0.6, frozenset("cs"): 0.6,
                  frozenset("jz"): 0.8, frozenset("vu"): 0.6}
_INDEL_I, _INDEL_VOWEL, _INDEL_CONSONANT, _CHINESE_DROPS = 0.3, 0.5, 1.0, 0.5


def _indel(ch: str) -> float:
    if ch == "i":
        return _INDEL_I
    return _INDEL_VOWEL if ch in VOWELS else _INDEL_CONSONANT


def _sub(x: str, y: str) -> float:
    if x == y:
        return 0.0
    pair = frozenset((x, y))
    if x in VOWELS and y in VOWELS:
        return _VOWEL_SUB.get(pair, 0.9)
    return _CONSONANT_SUB.get(pair, 1.0)


def _advance(row: list[float], reading: str, target: str, skip: tuple[float, ...]) -> list[float]:
    """Extend an alignment row (cost of reaching each prefix of ``target``) by ``reading``."""
    row = row[:]
    for j in range(1, len(row)):  # target letters left unmatched before the reading
        row[j] = min(row[j], row[j - 1] + skip[j - 1])
    for ch in reading:
        new = [row[0] + _indel(ch)]
        for j in range(1, len(row)):
            new.append(min(row[j] + _indel(ch), new[j - 1] + skip[j - 1], row[j - 1] + _sub(ch, target[j - 1])))
        row = new
    return row


def _align(lattice: tuple[tuple[str, ...], ...], target: str, skip: tuple[float, ...]) -> float:
    row = [0.0] * (len(target) + 1)
    for j in range(1, len(row)):
        row[j] = row[j - 1] + skip[j - 1]
    for options in lattice:
        rows = [_advance(row, reading, target, skip) for reading in options]
        row = [min(values) for values in zip(*rows)]
    for j in range(1, len(row)):
        row[j] = min(row[j], row[j - 1] + skip[j - 1])
    return row[-1]


@lru_cache(maxsize=262144)
def lattice_distance(lattice: tuple[tuple[str, ...], ...], target: str) -> float:
    """The least edit distance between ``target`` and any reading path through a Chinese ``lattice``.

    Chinese transcription drops a syllable-closing r, l or n now and then (加娜古丽 for Жанаргүл),
    so those letters of ``target`` cost half when the lattice has nothing for them.
    """
    skip = tuple(_CHINESE_DROPS if ch in "rln" else _indel(ch) for ch in target)
    return _align(lattice, target, skip)


_TRANSPOSED = 0.6  # Nurlna for Nurlan: a typing slip, not another name


@lru_cache(maxsize=262144)
def edit_distance(a: str, b: str) -> float:
    """Weighted edit distance between two phonetic keys, with adjacent letters swapped at 0.6."""
    rows = [[0.0]]
    for ch in b:
        rows[0].append(rows[0][-1] + _indel(ch))
    for i, x in enumerate(a, start=1):
        row = [rows[-1][0] + _indel(x)]
        for j, y in enumerate(b, start=1):
            cost = min(rows[-1][j] + _indel(x), row[j - 1] + _indel(y), rows[-1][j - 1] + _sub(x, y))
            if i > 1 and j > 1 and x == b[j - 2] and a[i - 2] == y and x != y:
                cost = min(cost, rows[-2][j - 2] + _TRANSPOSED)
            row.append(cost)
        rows.append(row)
    return rows[-1][-1]


_OTHER_SYLLABLE = 0.8


@lru_cache(maxsize=16384)
def _unit_indel(unit: tuple[str, ...]) -> float:
    return min(sum(_indel(ch) for ch in reading) for reading in unit)


@lru_cache(maxsize=262144)
def _unit_sub(x: tuple[str, ...], y: tuple[str, ...]) -> float:
    if set(x) & set(y):
        return 0.0
    return max(_OTHER_SYLLABLE, min(edit_distance(r, s) for r in x for s in y))


@lru_cache(maxsize=65536)
def syllable_distance(a: tuple[tuple[str, ...], ...], b: tuple[tuple[str, ...], ...]) -> float:
    """Edit distance between two Chinese (or pinyin) spellings, character by character.

    Two characters are the same when they share a reading (托合塔尔 / 托克塔尔: 合 and 克 both
    read q), and two characters may stand for one (巴吾尔江 / 包尔江); otherwise a character is
    another syllable (马拉提 Marat / 木拉提 Murat), whatever path a permissive reading lattice
    might find between them.
    """
    rows = [[0.0]]
    for unit in b:
        rows[0].append(rows[0][-1] + _unit_indel(unit))
    for i, x in enumerate(a, start=1):
        row = [rows[-1][0] + _unit_indel(x)]
        for j, y in enumerate(b, start=1):
            cost = min(rows[-1][j] + _unit_indel(x), row[j - 1] + _unit_indel(y), rows[-1][j - 1] + _unit_sub(x, y))
            if i > 1 and _merges(a[i - 2], x, y):
                cost = min(cost, rows[-2][j - 1])
            if j > 1 and _merges(b[j - 2], y, x):
                cost = min(cost, rows[-1][j - 2])
            row.append(cost)
        rows.append(row)
    return rows[-1][-1]


@lru_cache(maxsize=262144)
def _merges(first: tuple[str, ...], second: tuple[str, ...], whole: tuple[str, ...]) -> bool:
    """Two characters written for one (巴吾 and 包 both read bau)."""
    return any(f + s in whole for f in first for s in second)


def part_distance(a: NamePart, b: NamePart) -> float:
    """The distance between two parts.

    Two Chinese (or pinyin) parts: ``syllable_distance``. A Chinese part and another spelling:
    the best path through the Chinese readings (``lattice_distance``). Otherwise the weighted
    edit distance of the phonetic keys.
    """
    if a.lattice and b.lattice:
        return syllable_distance(a.lattice, b.lattice)
    best = min(edit_distance(x, y) for x in (a.phonetic, *a.variants) for y in (b.phonetic, *b.variants))
    if best and a.lattice:
        best = min(best, lattice_distance(a.lattice, b.phonetic))
    if best and b.lattice:
        best = min(best, lattice_distance(b.lattice, a.phonetic))
    return best


_SIMILARITIES: dict[tuple[str, str], float] = {}
_MAX_CACHED = 500_000  # about 100 MB at most


def part_similarity(a: NamePart, b: NamePart) -> float:
    """1.0 for the same name, falling with the distance relative to the longer phonetic key."""
    cache_key = (a.signature, b.signature)
    found = _SIMILARITIES.get(cache_key)
    if found is None:
        length = max(len(a.phonetic), len(b.phonetic), 1)
        found = max(0.0, 1.0 - part_distance(a, b) / length)
        if len(_SIMILARITIES) >= _MAX_CACHED:
            _SIMILARITIES.clear()
        _SIMILARITIES[cache_key] = _SIMILARITIES[(b.signature, a.signature)] = found
    return found


def joined(parts: list[NamePart], role: str = WHOLE) -> NamePart:
    """Several parts read as one (given + father, to compare with an unseparated Chinese name)."""
    lattice = tuple(units for p in parts for units in p.lattice) if all(p.lattice for p in parts) else ()
    key = "".join(p.key for p in parts)
    return NamePart(" ".join(p.text for p in parts), role, key, phonetic(key), lattice)
