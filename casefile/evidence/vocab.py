"""The kinds of evidence and of custody events, each with its translatable label."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

KINDS = {
    "identity_document": _l("Identity document"),
    "detention_notice": _l("Detention notice"),
    "verdict": _l("Court verdict"),
    "letter": _l("Letter"),
    "photo": _l("Photo"),
    "audio_testimony": _l("Audio testimony"),
    "video_testimony": _l("Video testimony"),
    "official_reply": _l("Official reply"),
    "other": _l("Other"),
}

CUSTODY_ACTIONS = {
    "added": _l("added"),
    "previewed": _l("previewed"),
    "downloaded": _l("downloaded"),
    "included_in_packet": _l("included in a packet"),
    "corrected": _l("corrected"),
    "tombstoned": _l("removed"),
    "purged": _l("bytes destroyed"),
}
