"""Case pages: list and search, create, show, edit, status, timeline, reporters."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from casefile import access
from casefile.auth.models import Role, Team
from casefile.cases import search, services, vocab
from casefile.cases.forms import CaseForm, ReporterForm, StatusForm, TimelineForm
from casefile.cases.models import Case
from casefile.core.addresses import refuse_impossible
from casefile.core.errors import DomainError
from casefile.core.forms import show_error
from casefile.evidence import services as evidence_services
from casefile.evidence import vocab as evidence_vocab
from casefile.extensions import db
from casefile.packets import followup
from casefile.packets.models import Recipient
from casefile.people.models import NameKind
from casefile.people.services import PersonInput
from casefile.places.gazetteer import hometown_choices, prefectures

bp = Blueprint("cases", __name__, url_prefix="/cases")
CASE_ROLES = (Role.ADVOCATE, Role.COORDINATOR)

bp.url_value_preprocessor(refuse_impossible)


def _actor():  # type: ignore[no-untyped-def]
    return current_user._get_current_object()


def _fill_choices(form: CaseForm) -> None:
    actor = _actor()
    locale = str(get_locale() or "en")
    form.team_id.choices = [(team.id, team.name) for team in services.assignable_teams(actor)]
    form.hometown_code.choices = {_("Not known"): [("", "—")], **{
        group: options for group, options in hometown_choices(locale)
    }}
    form.named_users.choices = [(user.id, f"{user.label} ({user.username})") for user in services.nameable_users()]


def _case_input(form: CaseForm) -> services.CaseInput:
    person = PersonInput(
        names=form.name_rows(), sex=form.sex.data or None, birth_date=form.birth_date.parsed,
        ethnicity=form.ethnicity.data or "", prc_id=form.prc_id.data or None, iin=form.iin.data or None,
        hometown_code=form.hometown_code.data or None, hometown_village=form.hometown_village.data or "",
        occupation=form.occupation.data or "", citizenship=form.citizenship.data,
        kz_documents=form.kz_documents.data or "", kazakhstan_ties=form.kazakhstan_ties.data or "",
    )
    return services.CaseInput(
        person=person, team_id=form.team_id.data, status=form.status.data, status_on=form.status_on.parsed,
        status_source=form.status_source.data or "", verification_level=form.verification_level.data,
        detained_on=form.detained_on.parsed, last_contact_on=form.last_contact_on.parsed,
        trial_on=form.trial_on.parsed, release_on=form.release_on.parsed,
        detention_facility=form.detention_facility.data or "", detention_city=form.detention_city.data or "",
        alleged_reasons=list(form.alleged_reasons.data or []),
        alleged_reason_other=form.alleged_reason_other.data or "", sentence=form.sentence.data or "",
        narrative=form.narrative.data or "", responsible_authority=form.responsible_authority.data or "",
        family_steps=form.family_steps.data or "", restricted=bool(form.restricted.data),
        named_user_ids=list(form.named_users.data or []),
    )


def _bad_input(template: str, **context: object) -> tuple[str, int]:
    # 400 tells the browser and the tests that nothing was saved.
    return render_template(template, **context), 400


def _fill_filter_choices(form: search.CaseFilterForm, locale: str) -> None:
    """Choices of the filters the dashboard links to: "not recorded" values, hometowns, recipients."""
    form.prefecture.choices.append((search.NO_VALUE, _("Not recorded")))
    form.county.choices = {_("Any"): [("", _("Any hometown")), (search.NO_VALUE, _("Not recorded"))],
                           **dict(hometown_choices(locale))}
    recipients = db.session.scalars(select(Recipient).order_by(Recipient.name))
    form.recipient.choices = [("", _("Any or none")), (search.ANY_RECIPIENT, _("Any recipient"))] + [
        (str(recipient.id), recipient.name) for recipient in recipients]
    form.outcome.choices = [("", _("Any")), *((key, str(text)) for key, text in followup.OUTCOMES.items()),
                            (search.NO_VALUE, _("Submitted, no outcome recorded"))]


@bp.route("")
@access.roles(*CASE_ROLES)
def index() -> str | tuple[str, int]:
    form = search.CaseFilterForm(request.args)
    locale = str(get_locale() or "en")
    form.prefecture.choices = [("", _("Any prefecture"))] + [(p.code, p.label(locale)) for p in prefectures()]
    teams = db.session.scalars(select(Team).order_by(Team.name))
    form.team.choices = [("", _("Any team"))] + [(str(team.id), team.name) for team in teams]
    _fill_filter_choices(form, locale)
    if request.args and not form.validate():
        return render_template("cases/list.html", form=form, page=None, vocab=vocab), 400
    page = search.find_cases(_actor(), form)
    return render_template("cases/list.html", form=form, page=page, vocab=vocab)


@bp.route("/new", methods=["GET", "POST"])
@access.roles(*CASE_ROLES)
def create() -> Response | str | tuple[str, int]:
    form = CaseForm()
    _fill_choices(form)
    if not form.is_submitted():
        form.names.entries[0].form.kind.data = NameKind.PRIMARY.value
    if form.add_name.data:
        form.names.append_entry()
        return render_template("cases/form.html", form=form, case=None)
    if form.validate_on_submit():
        try:
            case = services.open_case(_actor(), _case_input(form))
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            flash(_("Case %(ref)s created.", ref=case.reference), "success")
            return redirect(url_for("cases.show", reference=case.reference))
    if form.is_submitted():
        return _bad_input("cases/form.html", form=form, case=None)
    return render_template("cases/form.html", form=form, case=None)


@bp.route("/<reference>")
@access.roles(*CASE_ROLES)
def show(reference: str) -> str:
    actor = _actor()
    case = services.view_case(actor, reference)
    contacts = {reporter.id: services.reporter_contact(actor, case, reporter) for reporter in case.reporters}
    return render_template(
        "cases/show.html", case=case, vocab=vocab, contacts=contacts,
        can_see_contacts=access.can_see_contacts(actor, case),
        evidence=evidence_services.case_log(actor, case), removed_evidence=evidence_services.removed_count(actor, case),
        can_edit=access.can_edit_case(actor, case), evidence_kinds=evidence_vocab.KINDS,
        status_form=StatusForm(status=case.status), timeline_form=TimelineForm(),
    )


@bp.route("/<reference>/edit", methods=["GET", "POST"])
@access.roles(*CASE_ROLES)
def edit(reference: str) -> Response | str | tuple[str, int]:
    actor = _actor()
    case = access.get_case(actor, reference) if _is_post() else services.view_case(actor, reference, "edit")
    form = CaseForm(obj=None) if _is_post() else _form_from_case(case)
    _fill_choices(form)
    if form.add_name.data:
        form.names.append_entry()
        return render_template("cases/form.html", form=form, case=case)
    if form.validate_on_submit():
        try:
            changed = services.update_case(actor, case, _case_input(form))
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            flash(_("Saved.") if changed else _("Nothing changed."), "success")
            return redirect(url_for("cases.show", reference=case.reference))
    if form.is_submitted():
        return _bad_input("cases/form.html", form=form, case=case)
    return render_template("cases/form.html", form=form, case=case)


def _is_post() -> bool:
    return request.method == "POST"


def _form_from_case(case: Case) -> CaseForm:
    person = case.person
    data = {name: getattr(person, name) for name in (
        "sex", "birth_date", "ethnicity", "prc_id", "iin", "hometown_code", "hometown_village",
        "occupation", "citizenship", "kz_documents", "kazakhstan_ties")}
    data.update({name: getattr(case, name) for name in (
        "team_id", "status", "verification_level", "detained_on", "last_contact_on", "trial_on", "release_on",
        "detention_facility", "detention_city", "alleged_reasons", "alleged_reason_other", "sentence",
        "narrative", "responsible_authority", "family_steps", "restricted")})
    data["sex"] = person.sex or ""
    data["hometown_code"] = person.hometown_code or ""
    data["named_users"] = [user.id for user in case.named_users]
    data["names"] = [{"text": n.text, "script": n.script, "kind": n.kind} for n in person.names] + [{}, {}]
    return CaseForm(formdata=None, data=data)


@bp.route("/<reference>/status", methods=["POST"])
@access.roles(*CASE_ROLES)
def change_status(reference: str) -> Response | tuple[str, int]:
    actor = _actor()
    case = access.get_case(actor, reference)
    form = StatusForm()
    if form.validate_on_submit():
        services.record_status(actor, case, form.status.data, form.occurred_on.parsed, form.source.data or "")
        flash(_("Status recorded."), "success")
        return redirect(url_for("cases.show", reference=case.reference))
    return _bad_input("cases/status_form.html", case=case, form=form)


@bp.route("/<reference>/timeline", methods=["POST"])
@access.roles(*CASE_ROLES)
def add_event(reference: str) -> Response | tuple[str, int]:
    actor = _actor()
    case = access.get_case(actor, reference)
    form = TimelineForm()
    if form.validate_on_submit():
        services.add_timeline_event(actor, case, kind=form.kind.data, occurred_on=form.occurred_on.parsed,
                                    place=form.place.data or "", description=form.description.data or "",
                                    source=form.source.data or "")
        flash(_("Event added to the timeline."), "success")
        return redirect(url_for("cases.show", reference=case.reference, _anchor="timeline"))
    return _bad_input("cases/timeline_form.html", case=case, form=form)


def _reporter_input(form: ReporterForm, include_contact: bool) -> services.ReporterInput:
    contact = {
        "phone": form.phone.data or "", "email": form.email.data or "",
        "postal_address": form.postal_address.data or "", "iin": form.reporter_iin.data or "",
    } if include_contact else {}
    consent_on = form.consent_on.parsed.earliest() if form.consent_on.parsed else None
    return services.ReporterInput(
        full_name=form.full_name.data or "", relationship_kind=form.relationship_kind.data,
        relationship_detail=form.relationship_detail.data or "", contact=contact,
        consents=form.consent_choices(), consent_on=consent_on,
    )


@bp.route("/<reference>/reporters/new", methods=["GET", "POST"])
@access.roles(*CASE_ROLES)
def new_reporter(reference: str) -> Response | str | tuple[str, int]:
    actor = _actor()
    case = access.get_case(actor, reference)
    form = ReporterForm()
    can_contact = access.can_see_contacts(actor, case)
    if form.validate_on_submit():
        services.add_reporter(actor, case, _reporter_input(form, can_contact))
        flash(_("Reporter added."), "success")
        return redirect(url_for("cases.show", reference=case.reference, _anchor="reporters"))
    context = {"case": case, "form": form, "reporter": None, "can_see_contacts": can_contact}
    if form.is_submitted():
        return _bad_input("cases/reporter_form.html", **context)
    return render_template("cases/reporter_form.html", **context)


@bp.route("/<reference>/reporters/<int:reporter_id>/edit", methods=["GET", "POST"])
@access.roles(*CASE_ROLES)
def edit_reporter(reference: str, reporter_id: int) -> Response | str | tuple[str, int]:
    actor = _actor()
    case = access.get_case(actor, reference) if _is_post() else services.view_case(actor, reference, "reporter")
    try:
        reporter = services.get_reporter(case, reporter_id)
    except DomainError:
        abort(404)
    can_contact = access.can_see_contacts(actor, case)
    if _is_post():
        form = ReporterForm()
    else:
        contact = services.reporter_contact(actor, case, reporter) or {}
        current = {}
        for kind in vocab.RECIPIENT_KINDS:
            consent = reporter.current_consent(kind)
            current[f"consent_{kind}"] = "none" if consent is None else (
                "identity" if consent.disclose_identity else "case")
        form = ReporterForm(formdata=None, data={
            "full_name": reporter.full_name, "relationship_kind": reporter.relationship_kind,
            "relationship_detail": reporter.relationship_detail, "phone": contact.get("phone", ""),
            "email": contact.get("email", ""), "postal_address": contact.get("postal_address", ""),
            "reporter_iin": contact.get("iin", ""), **current,
        })
    if form.validate_on_submit():
        services.update_reporter(actor, case, reporter, _reporter_input(form, can_contact))
        flash(_("Reporter saved."), "success")
        return redirect(url_for("cases.show", reference=case.reference, _anchor="reporters"))
    context = {"case": case, "form": form, "reporter": reporter, "can_see_contacts": can_contact}
    if form.is_submitted():
        return _bad_input("cases/reporter_form.html", **context)
    return render_template("cases/reporter_form.html", **context)
