"""The packet builder's form: recipient, selection, the cover letter; and the recipient editor."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, FileField, SelectField, SubmitField
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from casefile.cases import vocab
from casefile.core.forms import CheckboxListField, LongText, PartialDateField, TextField, choices_of
from casefile.packets.recipients import POLICY_KEYS

REFERENCE = re.compile(r"KZ-\d{4}-\d{5}")
LANGUAGE_CHOICES = [("kk", "Қазақша"), ("ru", "Русский"), ("en", "English"), ("zh", "中文")]
REQUEST_CHOICES = [
    ("fate", _l("Establish the person's fate and whereabouts")),
    ("consular_access", _l("Consular access (citizens and residence-permit holders)")),
    ("family_contact", _l("Contact with the family")),
    ("release", _l("Release, or permission to leave China")),
    ("written_reply", _l("A written reply")),
]
LEGAL_BASIS_CHOICES = [
    ("vienna_convention", _l("Vienna Convention on Consular Relations (Kazakh citizens)")),
    ("enforced_disappearance_convention", _l("Convention on Enforced Disappearance (Kazakhstan is a party)")),
    ("humanitarian", _l("Humanitarian grounds")),
]


class PacketForm(FlaskForm):
    recipient = SelectField(_l("Recipient"), choices=[])
    language = SelectField(_l("Language of the packet"), choices=LANGUAGE_CHOICES)
    references = LongText(_l("Cases by reference"), max_length=200_000,
                          description=_l("KZ-YYYY-NNNNN, separated by spaces or lines. Empty: use the filters."))
    statuses = CheckboxListField(_l("Status"), choices=choices_of(vocab.STATUSES))
    prefecture = SelectField(_l("Prefecture"), choices=[], default="")
    team = SelectField(_l("Team"), choices=[], default="")
    detained_from = PartialDateField(_l("Detained from"))
    detained_to = PartialDateField(_l("Detained until"))
    min_verification = SelectField(_l("Leave out cases verified below"), coerce=int, default=1,
                                   choices=[(level, label) for level, label in vocab.VERIFICATION_LEVELS.items()])
    organisation = TextField(_l("Organisation"), validators=[Length(max=300)])
    contact = LongText(_l("Organisation's contact"), max_length=1000)
    outgoing_reference = TextField(_l("Outgoing reference number"), validators=[Length(max=100)],
                                   description=_l("Empty: the packet's own reference"))
    subject = TextField(_l("Subject"), validators=[Length(max=500)])
    text = LongText(_l("Letter"), max_length=50_000,
                    description=_l("Filled in from the template of the packet's language at the preview; edit freely."))
    requests = CheckboxListField(_l("Requests"), choices=REQUEST_CHOICES,
                                 default=[code for code, _label in REQUEST_CHOICES])
    legal_basis = CheckboxListField(_l("Legal basis"), choices=LEGAL_BASIS_CHOICES)
    signatories = CheckboxListField(_l("Signatories"), coerce=int, choices=[],
                                    description=_l("Relatives whose consent for this recipient covers their identity."))
    preview = SubmitField(_l("Preview"))
    build = SubmitField(_l("Build the packet"))

    def validate_references(self, field: LongText) -> None:
        for token in self.reference_list():
            if not REFERENCE.fullmatch(token):
                raise ValidationError(_l("Not a case reference: %(token)s", token=token[:40]))

    def reference_list(self) -> list[str]:
        return [token.upper() for token in re.split(r"[\s,;]+", self.references.data or "") if token]

    def well_formed_references(self) -> list[str]:
        """The typed references that look like one (the selection runs before validation reports the rest)."""
        return [token for token in self.reference_list() if REFERENCE.fullmatch(token)]


class RecipientForm(FlaskForm):
    code = TextField(_l("Command-line name"), validators=[InputRequired(), Length(max=40)],
                     description=_l("Lower-case letters, digits and hyphens, e.g. kz-mfa"))
    name = TextField(_l("Name"), validators=[InputRequired(), Length(max=300)])
    address = LongText(_l("Address"), max_length=2000)
    consent_kind = SelectField(_l("Consent it needs"), choices=choices_of(vocab.RECIPIENT_KINDS))
    languages = CheckboxListField(_l("Languages"), choices=LANGUAGE_CHOICES)
    form = SelectField(_l("Per-case section"), choices=[("standard", _l("Standard")),
                                                         ("wgeid", _l("UN WGEID case form"))])
    reporter_identity = SelectField(_l("Reporters' names and signatures"), choices=[
        ("with_consent", _l("Only where the reporter's consent covers their identity")), ("never", _l("Never"))])
    evidence_files = SelectField(_l("Evidence files and thumbnails"), choices=[
        ("always", _l("Always")), ("with_consent", _l("Only where a reporter's consent covers their identity")),
        ("never", _l("Never"))])
    evidence_list = SelectField(_l("Evidence list with hashes"), choices=[("yes", _l("Yes")), ("no", _l("No"))])
    identifiers = SelectField(_l("PRC ID and IIN"), choices=[("yes", _l("Yes")), ("no", _l("No"))])
    active = SelectField(_l("In use"), choices=[("yes", _l("Yes")), ("no", _l("No"))])

    def validate_code(self, field: TextField) -> None:
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]{1,39}", field.data or ""):
            raise ValidationError(_l("Lower-case letters, digits and hyphens only."))

    def validate_languages(self, field: CheckboxListField) -> None:
        if not field.data:
            raise ValidationError(_l("Choose at least one language."))

    def policy(self) -> dict[str, str]:
        return {key: getattr(self, key).data for key in POLICY_KEYS}


class SubmissionForm(FlaskForm):
    handed_over_on = DateField(_l("Handed over on"), validators=[InputRequired()])
    channel = SelectField(_l("How"), choices=[])
    handed_over_by = TextField(_l("By whom"), validators=[InputRequired(), Length(max=200)])
    receipt_number = TextField(_l("Receipt number"), validators=[Length(max=100)])
    receipt = FileField(_l("Scan of the stamped receipt"))
    follow_up_on = DateField(_l("Chase an answer on"), validators=[Optional()])


class ResponseForm(FlaskForm):
    received_on = DateField(_l("Received on"), validators=[InputRequired()])
    kind = SelectField(_l("What they answered"), choices=[])
    text = LongText(_l("The answer"), max_length=50_000)
