"""The recipients every instance starts with, and what each may see by default."""

from __future__ import annotations

from datetime import datetime
from typing import Any

# The field policy: what of a case a recipient's packet carries.
#   reporter_identity: "with_consent" (only reporters whose consent for this recipient covers their
#                      identity are named, and sign) or "never".
#   evidence_files:    "always", "with_consent" (only when a reporter of the case consented with
#                      their identity), or "never": thumbnails in the PDF, files in the ZIP bundle.
#   evidence_list:     "yes"/"no": the evidence list with kind, date and SHA-256.
#   identifiers:       "yes"/"no": PRC resident ID and IIN.
POLICY_KEYS: dict[str, tuple[str, ...]] = {
    "reporter_identity": ("with_consent", "never"),
    "evidence_files": ("always", "with_consent", "never"),
    "evidence_list": ("yes", "no"),
    "identifiers": ("yes", "no"),
}
DEFAULT_POLICY = {"reporter_identity": "with_consent", "evidence_files": "always", "evidence_list": "yes",
                  "identifiers": "yes"}
# The embassy learns nothing of a family that the family did not agree to show it.
EMBASSY_POLICY = {**DEFAULT_POLICY, "evidence_files": "with_consent"}

def seeded_rows(seeded_at: datetime) -> list[dict[str, Any]]:
    """The rows a new instance starts with (the migration inserts them)."""
    return [{**recipient, "active": True, "updated_at": seeded_at} for recipient in SEEDED]


# Street addresses of the Kazakh bodies and the embassy are left for an admin to confirm and
# complete (Admin → Recipients): a wrong address on a petition costs weeks.
SEEDED: list[dict[str, Any]] = [
    {"code": "kz-mfa", "consent_kind": "kz_mfa", "languages": ["kk", "ru"], "form": "standard",
     "name": "Ministry of Foreign Affairs of the Republic of Kazakhstan",
     "address": "Ministry of Foreign Affairs of the Republic of Kazakhstan\nAstana, Kazakhstan", "policy": DEFAULT_POLICY},
    {"code": "prc-embassy", "consent_kind": "prc_embassy", "languages": ["zh", "ru"], "form": "standard",
     "name": "Embassy of the People's Republic of China in the Republic of Kazakhstan",
     "address": "Embassy of the People's Republic of China\nAstana, Kazakhstan",
     "policy": EMBASSY_POLICY},
    {"code": "kz-parliament", "consent_kind": "kz_parliament", "languages": ["kk", "ru"], "form": "standard",
     "name": "Parliament of the Republic of Kazakhstan",
     "address": "Parliament of the Republic of Kazakhstan\nAstana, Kazakhstan", "policy": DEFAULT_POLICY},
    {"code": "un-wgeid", "consent_kind": "un", "languages": ["en"], "form": "wgeid",
     "name": "UN Working Group on Enforced or Involuntary Disappearances",
     "address": "Working Group on Enforced or Involuntary Disappearances\nOHCHR, United Nations Office at Geneva\n"
                "8-14 Avenue de la Paix\n1211 Geneva 10, Switzerland", "policy": DEFAULT_POLICY},
    {"code": "un-wgad", "consent_kind": "un", "languages": ["en"], "form": "standard",
     "name": "UN Working Group on Arbitrary Detention",
     "address": "Working Group on Arbitrary Detention\nOHCHR, United Nations Office at Geneva\n"
                "8-14 Avenue de la Paix\n1211 Geneva 10, Switzerland", "policy": DEFAULT_POLICY},
    {"code": "ohchr", "consent_kind": "un", "languages": ["en"], "form": "standard",
     "name": "Office of the United Nations High Commissioner for Human Rights",
     "address": "OHCHR, Palais des Nations\nCH-1211 Geneva 10, Switzerland", "policy": DEFAULT_POLICY},
    {"code": "other", "consent_kind": "public", "languages": ["kk", "ru", "en", "zh"], "form": "standard",
     "name": "Other recipient", "address": "", "policy": DEFAULT_POLICY},
]
