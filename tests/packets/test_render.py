"""The packet PDF on real renders: Typst, the bundled fonts, the worker processes, the merge.

Text is read back with pypdf. Arabic-script names come back from text extraction in visual order,
so the tests look for Latin, Cyrillic and Chinese text and check the Arabic one by its glyph check.
"""

from __future__ import annotations

import copy
import io
import re
from typing import Any

import pytest
from PIL import Image
from pypdf import PdfReader

from casefile.cases import vocab as case_vocab
from casefile.evidence import vocab as evidence_vocab
from casefile.packets import labels
from casefile.packets.render import (
    RenderError,
    check_glyphs,
    covered_characters,
    render_pdf,
    sanitise_text,
    template_source,
)

HOSTILE = ['#panic("x")', "]", "$x$", "<label>", "@ref", "*bold*", "//comment", "back\\slash\\\\",
           "_under_", "`raw`", "#{1+1}", "= heading"]


def case(number: int, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "number": number, "reference": f"KZ-2025-{number:05d}",
        "names": [{"text": "Нұрлан Тоқтарұлы", "script": "cyrillic", "kind": "primary"},
                  {"text": "努尔兰·托合塔尔", "script": "chinese", "kind": "document"},
                  {"text": "Nūrlan Toqtarūly", "script": "latin", "kind": "alias"},
                  {"text": "نۇرلان توقتار ۇلى", "script": "arabic", "kind": "alias"}],
        "sex": "M", "birth_date": "1978-03", "citizenship": "kazakhstan", "ethnicity": "Kazakh",
        "prc_id": "11010519491231002X", "iin": None, "occupation": "Farmer", "kz_documents": "",
        "hometown": "Іле, Тоғызтарау ауданы, Ақтөбе ауылы", "status": "camp", "verification_level": 2,
        "detained_on": "2017-05", "last_contact_on": "2018", "trial_on": None, "release_on": None,
        "detention_place": "Құлжа, лагерь №3", "alleged_reasons": ["religious_practice", "travel_kazakhstan"],
        "alleged_reason_other": "", "sentence": "", "narrative": "Taken from home at night.\n\nThe family was told nothing.",
        "family_steps": "Wrote to the Ministry in 2018; no reply.", "responsible_authority": "",
        "timeline": [{"date": "2017-05-14", "kind": "detention", "place": "Тоғызтарау", "description": "Taken by police"}],
        "evidence": [{"item": 1, "kind": "photo", "date": "2019", "sha256": "ab" * 32, "type": "JPEG image",
                      "thumbnail": None}],
        "reporters": [{"name": "Гүлнар Серікқызы", "relationship": "spouse", "consents": True},
                      {"name": None, "relationship": "son", "consents": True}],
        "urgent": False,
    }
    data.update(changes)
    return data


def packet(language: str = "ru", form: str = "standard", cases: list[dict[str, Any]] | None = None,
           **changes: Any) -> dict[str, Any]:
    cases = cases if cases is not None else [case(1), case(2)]
    data: dict[str, Any] = {
        "schema": "casefile.packet/1",
        "packet": {"reference": "PK-2026-00001", "built_at": "2026-11-24T11:30:00Z", "language": language,
                   "form": form, "audit_head": "c0ffee" + "0" * 58, "audit_count": 123},
        "organisation": {"name": "Volunteers of Almaty", "contact": "Almaty\n+7 700 000 00 00"},
        "recipient": {"code": "kz-mfa", "name": "Ministry of Foreign Affairs of the Republic of Kazakhstan",
                      "address": "Astana\nMangilik El 8"},
        "letter": {"date": "2026-11-24", "outgoing_reference": "OUT-12/2026", "subject": "Detained relatives",
                   "text": "First paragraph of the letter.\n\nSecond paragraph.",
                   "requests": ["fate", "consular_access", "written_reply"],
                   "legal_basis": ["vienna_convention", "humanitarian"],
                   "signatories": [{"name": "Гүлнар Серікқызы", "relationship": "spouse"}]},
        "summary": {"people": len(cases), "period_from": "2017", "period_to": "2019-02",
                    "prefectures": ["Іле", "Тарбағатай"]},
        "cases": cases,
        "signatures": [{"full_name": "Гүлнар Серікқызы", "iin": "061211600012", "postal_address": "Almaty, Abai 1",
                        "phone": "+7 700 111 22 33", "relationship": "spouse", "case_numbers": [1],
                        "recipients": ["kz-mfa", "kz-parliament"]}],
        "manifest": {"evidence": [{"case_number": c["number"], "reference": c["reference"], "item": e["item"],
                                   "sha256": e["sha256"]} for c in cases for e in c["evidence"]]},
    }
    data.update(changes)
    return data


def pages_text(pdf: bytes) -> list[str]:
    return [page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages]


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


# --- every language and form -----------------------------------------------------------------------

@pytest.mark.parametrize("language", labels.LANGUAGES)
@pytest.mark.parametrize("form", ["standard", "wgeid"])
def test_renders_in_every_language_and_form(language: str, form: str) -> None:
    inputs = packet(language, form, cases=[case(1, urgent=True), case(2)])
    pdf = render_pdf(inputs)
    assert pdf.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(pdf))
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 portrait
    text = flat(" ".join(pages_text(pdf)))
    for group, code in (("heading", "cover_letter"), ("heading", "list"), ("heading", "manifest"),
                        ("heading", "signatures"), ("status", "camp"), ("request", "fate")):
        assert flat(labels.label(language, group, code)) in text, (group, code)
    assert "Нұрлан Тоқтарұлы" in text and "Nūrlan Toqtarūly" in text and "努尔兰" in text
    assert "KZ-2025-00002" in text
    not_known = labels.label(language, "text", "not_known")
    assert not_known in text  # the IIN, trial date, sentence ... of the cases are printed as not known
    urgent = labels.label(language, "text", "urgent")
    assert (urgent in text) == (form == "wgeid")
    if form == "wgeid":
        assert labels.label(language, "heading", "wgeid_forces") in text


def test_wgeid_form_prints_every_field_in_order_and_not_known_for_gaps() -> None:
    bare = case(1, names=[], sex=None, birth_date=None, prc_id=None, iin=None, occupation="", hometown="",
                detained_on=None, last_contact_on=None, detention_place="", responsible_authority="", family_steps="",
                reporters=[], timeline=[], evidence=[], alleged_reasons=[], narrative="", citizenship="unknown")
    text = flat(" ".join(pages_text(render_pdf(packet("en", "wgeid", cases=[bare])))))
    form = text[text.index("Case 1 · KZ-2025-00001"):]
    order = ["1. Identity of the person", "Family name, first name (as recorded)", "Sex", "Date of birth",
             "Nationality", "Identity document", "Occupation", "2. Date and place of arrest",
             "Date of arrest or disappearance", "Place of arrest or last seen", "3. Forces believed to be responsible",
             "Forces believed responsible, and why", "4. Steps taken by the family", "5. Identity of the source",
             "Source and relationship to the person"]
    positions = [form.find(item) for item in order]
    assert all(p >= 0 for p in positions), dict(zip(order, positions))
    assert positions == sorted(positions)
    section = form[:form.find("6. Further information")]
    assert section.count("not known") >= 10


def test_labels_cover_every_vocabulary_code_in_every_language() -> None:
    vocabularies = {"status": case_vocab.STATUSES, "citizenship": case_vocab.CITIZENSHIP, "script": case_vocab.SCRIPTS,
                    "name_kind": case_vocab.NAME_KINDS, "alleged_reason": case_vocab.ALLEGED_REASONS,
                    "timeline_kind": case_vocab.TIMELINE_KINDS, "relationship": case_vocab.RELATIONSHIPS,
                    "verification_level": case_vocab.VERIFICATION_LEVELS, "evidence_kind": evidence_vocab.KINDS}
    for group, vocabulary in vocabularies.items():
        for code in vocabulary:
            for language in labels.LANGUAGES:
                text = labels.label(language, group, code)
                assert text and text != str(code), (group, code, language)
    for group, codes in (("recipient", ["kz-mfa", "prc-embassy", "kz-parliament", "un-wgeid", "un-wgad", "ohchr", "other"]),
                         ("request", ["fate", "consular_access", "family_contact", "release", "written_reply"]),
                         ("legal_basis", ["vienna_convention", "enforced_disappearance_convention", "humanitarian"])):
        for code in codes:
            assert len({labels.label(language, group, code) for language in labels.LANGUAGES}) == 4, (group, code)
    # Every label the packet can print has its glyphs.
    covered = covered_characters()
    for group in labels.groups():
        for language in labels.LANGUAGES:
            for text in labels.table(language, group).values():
                missing = [c for c in text if ord(c) not in covered and c != "\n"]
                assert not missing, (group, language, text, missing)
    with pytest.raises(ValueError):
        labels.label("fr", "status", "camp")


def test_default_letter_mentions_people_period_and_prefectures() -> None:
    summary = {"people": 21, "period_from": "2017-03", "period_to": "2019", "prefectures": ["Іле", "Алтай"]}
    letters = {language: labels.default_letter(language, "kz-mfa", summary) for language in labels.LANGUAGES}
    for language, text in letters.items():
        assert "21" in text and "Іле" in text and "Алтай" in text, language
        assert "2019" in text and "2017" in text, language
        assert "\n\n" in text and "\n\n\n" not in text
    assert "21 человека" in letters["ru"]
    assert "March 2017" in letters["en"] and "03.2017" in letters["kk"] and "2017年3月" in letters["zh"]
    embassy = labels.default_letter("zh", "prc-embassy", {"people": 1, "period_from": None, "period_to": None,
                                                         "prefectures": []})
    assert embassy.startswith("尊敬的大使馆") and "1人" in embassy
    assert labels.default_letter("en", "un-wgeid", {"people": 1}).count("\n\n") >= 3


# --- what is printed is what was typed -----------------------------------------------------------------

def test_hostile_strings_print_as_typed() -> None:
    hostile_case = case(1, names=[{"text": s, "script": "latin", "kind": "alias"} for s in HOSTILE],
                        narrative="\n".join(HOSTILE), occupation='#panic("x")')
    inputs = packet("en", cases=[hostile_case], letter={**packet()["letter"], "subject": "#panic(\"subject\") ] $y$"},
                    organisation={"name": "<org> @me", "contact": "#set page(width: 1cm)"})
    text = " ".join(pages_text(render_pdf(inputs)))
    for string in HOSTILE + ['#panic("subject") ] $y$', "<org> @me", "#set page(width: 1cm)"]:
        assert string in text, string


def test_template_gets_data_only_through_sys_inputs() -> None:
    source = template_source().decode()
    assert 'json(bytes(sys.inputs.at("data")))' in source
    assert "eval(" not in source and "read(" not in source


def test_bidi_and_zero_width_characters_are_made_visible() -> None:
    assert sanitise_text("abc\u202edef") == "abc[U+202E]def"
    assert sanitise_text("a\u2066b\u2069c\u200ed\u200ff\u061cg") == "a[U+2066]b[U+2069]c[U+200E]d[U+200F]f[U+061C]g"
    assert sanitise_text("x\u200by\ufeffz\u2060w\u200dv") == "x[U+200B]y[U+FEFF]z[U+2060]w[U+200D]v"
    assert sanitise_text("line\r\nnext\tcol\x00") == "line\nnext col[U+0000]"
    # Between two Arabic letters a ZWNJ or ZWJ only chooses the joining form: kept.
    assert sanitise_text("\u0628\u200c\u0628") == "\u0628\u200c\u0628"
    assert sanitise_text("\u0628\u200d\u0628") == "\u0628\u200d\u0628"
    spoof = case(1, names=[{"text": "Nurlan\u202eAKSAT", "script": "latin", "kind": "primary"}],
                 narrative="paid\u202e)fdp.exe\u202c here \u200bhidden")
    text = " ".join(pages_text(render_pdf(packet("en", cases=[spoof]))))
    assert "Nurlan[U+202E]AKSAT" in text
    assert "paid[U+202E])fdp.exe[U+202C] here [U+200B]hidden" in text
    assert "\u202e" not in text and "\u200b" not in text


def test_missing_glyph_names_the_case_and_the_character() -> None:
    inputs = packet(cases=[case(1), case(2, names=[{"text": "Nurlan \U00013000", "script": "latin", "kind": "alias"}])])
    with pytest.raises(RenderError) as caught:
        check_glyphs(inputs)
    message = str(caught.value)
    assert message.startswith("Case KZ-2025-00002: the character '\U00013000' (U+13000")
    assert "has no glyph in the packet fonts" in message and "\n" not in message
    with pytest.raises(RenderError, match=r"Case KZ-2025-00001: the character 'ཀ' \(U\+0F40"):
        render_pdf(packet(cases=[case(1, narrative="Tibetan ཀ")]))
    with pytest.raises(RenderError, match=r"Cover letter: the character .* \(U\+13000"):
        check_glyphs(packet(letter={**packet()["letter"], "subject": "\U00013000"}))
    check_glyphs(packet())  # Kazakh Cyrillic, Latin, Chinese and Arabic-script names all have glyphs
    arabic = "نۇرلان ۆ ۋ ڭ ٴا ە ى"
    assert all(ord(c) in covered_characters() for c in arabic if c != " ")


def test_template_error_names_the_line() -> None:
    broken = template_source().decode().replace("#let d = json", "#let d = json\n#let oops = (1 +)\n", 1)
    with pytest.raises(RenderError, match=r"^Packet template error at line 1[0-9], column \d+: "):
        render_pdf(packet(), template=broken)


def test_refuses_inputs_of_another_schema() -> None:
    with pytest.raises(RenderError, match="schema"):
        render_pdf({**packet(), "schema": "casefile.packet/0"})
    with pytest.raises(RenderError, match="language"):
        render_pdf(packet("fr"))


# --- the document ----------------------------------------------------------------------------------------

def test_same_inputs_give_the_same_bytes() -> None:
    inputs = packet("kk")
    first = render_pdf(inputs)
    assert render_pdf(copy.deepcopy(inputs)) == first
    changed = copy.deepcopy(inputs)
    changed["packet"]["built_at"] = "2026-11-25T09:00:00Z"
    assert render_pdf(changed) != first


def test_pdf_a_2b_with_page_numbers_and_reference_on_every_page() -> None:
    pdf = render_pdf(packet("ru"))
    assert b"<pdfaid:part>2</pdfaid:part>" in pdf and b"<pdfaid:conformance>B</pdfaid:conformance>" in pdf
    texts = pages_text(pdf)
    total = len(texts)
    assert total >= 5
    for number, text in enumerate(texts, start=1):
        assert f"{number} / {total}" in text, number
        assert "PK-2026-00001" in text, number
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.metadata.creation_date.isoformat().startswith("2026-11-24T11:30:00")


def test_long_list_repeats_its_header_on_every_page() -> None:
    cases = [case(n) for n in range(1, 61)]
    pdf = render_pdf(packet("en", cases=cases, signatures=[]))
    texts = pages_text(pdf)
    first = next(i for i, t in enumerate(texts) if "List of persons" in t)
    last = next(i for i, t in enumerate(texts) if "Individual cases" in t)
    list_pages = texts[first:last]
    assert len(list_pages) >= 3
    for text in list_pages:  # the header row on every page of the list, rows on every page
        assert "Names (in every script on record)" in text and "PRC resident ID" in text
        assert "Place of detention" in text and "Nūrlan Toqtarūly" in text
    assert re.search(r"\b60\b", list_pages[-1])
    assert "KZ-2025-00060" in " ".join(texts)
    assert "Signature sheet" not in " ".join(texts)  # no signatures, no sheet (nor its annex)


def test_large_packet_is_rendered_in_parts_and_merged() -> None:
    cases = [case(n, narrative=f"Narrative of case {n}.") for n in range(1, 41)]
    inputs = packet("ru", cases=cases)
    pdf = render_pdf(inputs, part_budget=20_000)  # several parts, each in its own worker
    assert render_pdf(copy.deepcopy(inputs), part_budget=20_000) == pdf
    reader = PdfReader(io.BytesIO(pdf))
    texts = [page.extract_text() for page in reader.pages]
    total = len(texts)
    for number, text in enumerate(texts, start=1):
        assert f"{number} / {total}" in text and "PK-2026-00001" in text, number
    joined = " ".join(texts)
    for n in range(1, 41):
        assert f"Narrative of case {n}." in joined
    assert b"<pdfaid:part>2</pdfaid:part>" in pdf and f"<xmpTPg:NPages>{total}</xmpTPg:NPages>".encode() in pdf
    outline = reader.outline
    titles = [item.title for item in outline if not isinstance(item, list)]
    assert titles[0] == labels.label("ru", "heading", "cover_letter")
    assert labels.label("ru", "heading", "cases") in titles and labels.label("ru", "heading", "manifest") in titles
    nested = next(item for item in outline if isinstance(item, list))
    assert len(nested) == 40 and nested[0].title.endswith("KZ-2025-00001")
    assert reader.get_destination_page_number(nested[39]) > reader.get_destination_page_number(nested[0])


def test_thumbnails_are_embedded() -> None:
    image = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(image, "JPEG")
    with_thumb = case(1, evidence=[{"item": 1, "kind": "photo", "date": "2019", "sha256": "cd" * 32,
                                    "type": "JPEG image", "thumbnail": "ev-1"},
                                   {"item": 2, "kind": "letter", "date": None, "sha256": "ef" * 32,
                                    "type": "PDF document", "thumbnail": "not-supplied"}])
    pdf = render_pdf(packet("en", cases=[with_thumb]), thumbnails={"ev-1": image.getvalue()})
    reader = PdfReader(io.BytesIO(pdf))
    images = [img for page in reader.pages for img in page.images]
    assert len(images) == 1
    with pytest.raises(RenderError, match="not a JPEG or PNG"):
        render_pdf(packet("en", cases=[with_thumb]), thumbnails={"ev-1": b"GIF89a..."})


def test_manifest_lists_every_hash_and_the_audit_head() -> None:
    cases = [case(1), case(2, evidence=[{"item": 3, "kind": "verdict", "date": "2020-01-02", "sha256": "9f" * 32,
                                         "type": "PDF document", "thumbnail": None}])]
    text = flat(" ".join(pages_text(render_pdf(packet("en", cases=cases)))))
    manifest = text[text.rindex("Manifest"):]
    assert "ab" * 32 in manifest and "9f" * 32 in manifest
    assert text.count("9f" * 32) == 2  # in the case's evidence list, and in the manifest
    assert "c0ffee" + "0" * 58 in manifest and "123" in manifest
    assert "2026-11-24 11:30:00 UTC" in manifest
