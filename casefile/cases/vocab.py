"""The fixed vocabularies of a case, each value with its translatable label."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

STATUSES = {
    "missing": _l("Missing / whereabouts unknown"),
    "camp": _l("Detained in a camp"),
    "detention_centre": _l("Detained in a detention centre"),
    "detained_unknown_place": _l("Detained, place unknown"),
    "sentenced": _l("Sentenced / in prison"),
    "released_restricted": _l("Released under surveillance or house arrest"),
    "forced_labour": _l("Placed in forced labour"),
    "exit_barred": _l("Travel documents confiscated / exit barred"),
    "returned": _l("Returned to Kazakhstan"),
    "deceased": _l("Deceased"),
    "unknown": _l("Unknown"),
}

CITIZENSHIP = {
    "unknown": _l("Unknown"),
    "kazakhstan": _l("Kazakhstan citizen"),
    "residence_permit": _l("Kazakhstan residence permit"),
    "kandas": _l("Kandas (ethnic-Kazakh returnee status)"),
    "prc_only": _l("PRC citizen only"),
    "dual_claim": _l("Dual claim"),
}

SCRIPTS = {
    "cyrillic": _l("Kazakh Cyrillic"),
    "latin": _l("Latin"),
    "chinese": _l("Chinese"),
    "arabic": _l("Arabic-script Kazakh"),
}

NAME_KINDS = {
    "primary": _l("Primary"),
    "alias": _l("Alias / other spelling"),
    "patronymic": _l("Patronymic form"),
    "document": _l("As written on a document"),
}

VERIFICATION_LEVELS = {
    0: _l("L0 · Unverified mention"),
    1: _l("L1 · One testimony of a named relative"),
    2: _l("L2 · Testimony with the person's ID document, or a video testimony"),
    3: _l("L3 · Confirmed by an independent source"),
    4: _l("L4 · Official document"),
}

ALLEGED_REASONS = {
    "religious_practice": _l("Religious practice (praying, fasting, the Quran)"),
    "relatives_abroad": _l("Contact with relatives abroad"),
    "money_transfers": _l("Money transfers from abroad"),
    "travel_kazakhstan": _l("Travel to Kazakhstan"),
    "foreign_documents": _l("Kazakh or other foreign documents"),
    "messaging_apps": _l("Use of WhatsApp or other foreign apps"),
    "passport": _l("Holding a passport"),
    "unknown": _l("No reason given"),
}

TIMELINE_KINDS = {
    "detention": _l("Detention"),
    "transfer": _l("Transfer"),
    "trial": _l("Trial"),
    "sentence": _l("Sentence"),
    "release": _l("Release"),
    "contact": _l("Contact with the family"),
    "official_reply": _l("Official reply"),
    "other": _l("Other"),
}

RELATIONSHIPS = {
    "mother": _l("Mother"),
    "father": _l("Father"),
    "spouse": _l("Spouse"),
    "son": _l("Son"),
    "daughter": _l("Daughter"),
    "brother": _l("Brother"),
    "sister": _l("Sister"),
    "other_relative": _l("Other relative"),
    "witness": _l("Witness"),
    "former_codetainee": _l("Former co-detainee"),
}

# Consent is asked per kind of recipient, not per body.
RECIPIENT_KINDS = {
    "kz_mfa": _l("Kazakh Foreign Ministry"),
    "prc_embassy": _l("PRC embassy"),
    "kz_parliament": _l("Parliament of Kazakhstan"),
    "un": _l("UN bodies"),
    "public": _l("Public"),
}

CONSENT_CHOICES = {
    "none": _l("Not asked / no consent"),
    "case": _l("Consents: case only, reporter's identity withheld"),
    "identity": _l("Consents, including the reporter's identity"),
}


def label(vocabulary: dict, value: object) -> str:
    """The label of a value, or the value itself when it is not (or no longer) known."""
    return str(vocabulary.get(value, value if value is not None else ""))
