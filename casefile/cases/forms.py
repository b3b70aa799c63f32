"""Forms for a case: the person and their names, the case record, status, timeline, reporters."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, FieldList, Form, FormField, SelectField, SubmitField
from wtforms.validators import InputRequired, Length, ValidationError

from casefile.cases import vocab
from casefile.core.forms import CheckboxListField, LongText, PartialDateField, TextField, choices_of
from casefile.people.identifiers import InvalidIdentifier, parse_iin, parse_prc_id
from casefile.people.models import Citizenship, NameKind
from casefile.people.names import detect_script, script_error

MAX_NAME = 200
MAX_NARRATIVE = 100_000

SEX_CHOICES = [("", _l("Unknown")), ("M", _l("Male")), ("F", _l("Female"))]

SCRIPT_CHOICES = [("auto", _l("Detect from the text")), *choices_of(vocab.SCRIPTS)]


class NameEntry(Form):
    """One written form of the person's name; an empty row is ignored."""

    text = TextField(_l("Name"), validators=[Length(max=MAX_NAME)])
    script = SelectField(_l("Script"), choices=SCRIPT_CHOICES, default="auto")
    kind = SelectField(_l("Kind"), choices=choices_of(vocab.NAME_KINDS), default=NameKind.ALIAS.value)

    def validate_text(self, field: TextField) -> None:
        if not field.data:
            return
        declared = self.script.data
        if declared not in vocab.SCRIPTS and declared != "auto":
            return  # the script field itself says "Not a valid choice"
        if declared == "auto":
            if detect_script(field.data) is None:
                raise ValidationError(_l("Write the name in one script: Cyrillic, Latin, Chinese or Arabic."))
            return
        error = script_error(field.data, declared)
        if error:
            raise ValidationError(error)

    def resolved_script(self) -> str:
        return detect_script(self.text.data) or "" if self.script.data == "auto" else self.script.data


class CaseForm(FlaskForm):
    """Create or edit a case with its person; the view fills the dynamic choices."""

    names = FieldList(FormField(NameEntry), min_entries=3, max_entries=30)
    add_name = SubmitField(_l("Add another name"))

    sex = SelectField(_l("Sex"), choices=SEX_CHOICES, default="")
    birth_date = PartialDateField(_l("Birth date"))
    ethnicity = TextField(_l("Ethnicity"), default="Kazakh", validators=[Length(max=60)])
    prc_id = TextField(_l("PRC resident ID"), validators=[Length(max=25)],
                       description=_l("18 characters, or the 15-digit legacy form"))
    iin = TextField(_l("Kazakhstan IIN"), validators=[Length(max=20)])
    hometown_code = SelectField(_l("Hometown (prefecture or county)"), choices=[], default="")
    hometown_village = TextField(_l("Village or township"), validators=[Length(max=200)])
    occupation = TextField(_l("Occupation"), validators=[Length(max=200)])
    citizenship = SelectField(_l("Citizenship status"), choices=choices_of(vocab.CITIZENSHIP),
                              default=Citizenship.UNKNOWN.value)
    kz_documents = TextField(_l("Kazakh document numbers"), validators=[Length(max=200)],
                             description=_l("Passport, residence permit or kandas certificate"))
    kazakhstan_ties = LongText(_l("Ties to Kazakhstan"), max_length=5000)

    team_id = SelectField(_l("Team"), coerce=int, choices=[])
    status = SelectField(_l("Status"), choices=choices_of(vocab.STATUSES), default="missing")
    status_on = PartialDateField(_l("Status since"))
    status_source = TextField(_l("Source of the status"), validators=[Length(max=500)])
    verification_level = SelectField(_l("Verification level"), coerce=int,
                                     choices=list(vocab.VERIFICATION_LEVELS.items()), default=0)
    detained_on = PartialDateField(_l("Detained on"))
    last_contact_on = PartialDateField(_l("Last contact"))
    trial_on = PartialDateField(_l("Trial"))
    release_on = PartialDateField(_l("Released on"))
    detention_facility = TextField(_l("Place of detention (facility)"), validators=[Length(max=200)])
    detention_city = TextField(_l("Place of detention (city)"), validators=[Length(max=200)])
    alleged_reasons = CheckboxListField(_l("Alleged reasons"), choices=choices_of(vocab.ALLEGED_REASONS))
    alleged_reason_other = TextField(_l("Other alleged reason"), validators=[Length(max=1000)])
    sentence = TextField(_l("Sentence (term, charge, court, date)"), validators=[Length(max=500)])
    narrative = LongText(_l("Narrative"), max_length=MAX_NARRATIVE)
    responsible_authority = TextField(
        _l("Authority believed responsible"), validators=[Length(max=500)],
        description=_l("Who detained or holds the person (police, state security, a camp's administration), and why you believe so"))
    family_steps = LongText(
        _l("Steps taken by the family"), max_length=20_000,
        description=_l("Inquiries and complaints: to whom, when, with what result; or why none were possible"))
    restricted = BooleanField(_l("Restricted: only the named users and its creator see this case"))
    named_users = CheckboxListField(_l("Named users"), coerce=int, choices=[])

    def validate_names(self, field: FieldList) -> None:
        if not any(entry.form.text.data for entry in field.entries):
            raise ValidationError(_l("Give at least one name."))

    def validate_prc_id(self, field: TextField) -> None:
        if field.data:
            try:
                parse_prc_id(field.data)
            except InvalidIdentifier as exc:
                raise ValidationError(str(exc)) from exc

    def validate_iin(self, field: TextField) -> None:
        if field.data:
            try:
                parse_iin(field.data)
            except InvalidIdentifier as exc:
                raise ValidationError(str(exc)) from exc

    def validate_release_on(self, field: PartialDateField) -> None:
        detained = self.detained_on.parsed
        if field.parsed and detained and field.parsed.latest() < detained.earliest():
            raise ValidationError(_l("The release cannot come before the detention."))

    def name_rows(self) -> list[tuple[str, str, str]]:
        """The filled name rows as (script, kind, text)."""
        return [
            (entry.form.resolved_script(), entry.form.kind.data, entry.form.text.data)
            for entry in self.names.entries
            if entry.form.text.data
        ]


class StatusForm(FlaskForm):
    status = SelectField(_l("New status"), choices=choices_of(vocab.STATUSES))
    occurred_on = PartialDateField(_l("Since"))
    source = TextField(_l("Source"), validators=[InputRequired(), Length(max=500)])


class TimelineForm(FlaskForm):
    kind = SelectField(_l("Event"), choices=choices_of(vocab.TIMELINE_KINDS))
    occurred_on = PartialDateField(_l("Date"))
    place = TextField(_l("Place"), validators=[Length(max=200)])
    description = LongText(_l("What happened"), max_length=5000)
    source = TextField(_l("Source"), validators=[Length(max=500)])


class ReporterForm(FlaskForm):
    """A relative or witness; contact details are sealed at rest and shown to the team only."""

    full_name = TextField(_l("Full name"), validators=[InputRequired(), Length(max=MAX_NAME)])
    relationship_kind = SelectField(_l("Relationship to the detained person"), choices=choices_of(vocab.RELATIONSHIPS))
    relationship_detail = TextField(_l("Relationship, in words"), validators=[Length(max=200)])
    phone = TextField(_l("Phone"), validators=[Length(max=50)])
    email = TextField(_l("E-mail"), validators=[Length(max=200)])
    postal_address = LongText(_l("Postal address"), max_length=1000)
    reporter_iin = TextField(_l("Reporter's IIN"), validators=[Length(max=20)],
                             description=_l("Kazakh state bodies do not consider an appeal without it"))
    consent_on = PartialDateField(_l("Consent recorded on"), description=_l("YYYY-MM-DD; today when empty"))
    consent_kz_mfa = SelectField(vocab.RECIPIENT_KINDS["kz_mfa"], choices=choices_of(vocab.CONSENT_CHOICES))
    consent_prc_embassy = SelectField(vocab.RECIPIENT_KINDS["prc_embassy"], choices=choices_of(vocab.CONSENT_CHOICES))
    consent_kz_parliament = SelectField(vocab.RECIPIENT_KINDS["kz_parliament"],
                                        choices=choices_of(vocab.CONSENT_CHOICES))
    consent_un = SelectField(vocab.RECIPIENT_KINDS["un"], choices=choices_of(vocab.CONSENT_CHOICES))
    consent_public = SelectField(vocab.RECIPIENT_KINDS["public"], choices=choices_of(vocab.CONSENT_CHOICES))

    def validate_reporter_iin(self, field: TextField) -> None:
        if field.data:
            try:
                parse_iin(field.data)
            except InvalidIdentifier as exc:
                raise ValidationError(str(exc)) from exc

    def validate_consent_on(self, field: PartialDateField) -> None:
        if field.parsed and field.parsed.precision != "day":
            raise ValidationError(_l("Give the full date: YYYY-MM-DD."))

    def consent_choices(self) -> dict[str, str]:
        return {kind: getattr(self, f"consent_{kind}").data for kind in vocab.RECIPIENT_KINDS}
