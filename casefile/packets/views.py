"""Packet pages for coordinators (build, list, show, download) and the recipient editor for admins."""

from __future__ import annotations

from flask import Blueprint, Flask, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response
from wtforms import Field

from casefile import access
from casefile.auth.models import Role, Team
from casefile.cases import vocab
from casefile.core.addresses import refuse_impossible
from casefile.core.errors import DomainError
from casefile.core.forms import show_error
from casefile.evidence import services as evidence_services
from casefile.evidence.storage import PendingBlob
from casefile.extensions import db
from casefile.jobs import kinds
from casefile.jobs import services as job_services
from casefile.packets import bundle, followup, services
from casefile.packets.forms import PacketForm, RecipientForm, ResponseForm, SubmissionForm
from casefile.packets.models import Packet, Recipient
from casefile.packets.recipients import DEFAULT_POLICY
from casefile.places.gazetteer import prefectures
from casefile.web import downloads, uploads

bp = Blueprint("packets", __name__, url_prefix="/packets")
admin_bp = Blueprint("recipients", __name__, url_prefix="/admin/recipients")
for _blueprint in (bp, admin_bp):
    _blueprint.url_value_preprocessor(refuse_impossible)


def register(app: Flask) -> None:
    app.register_blueprint(bp)
    app.register_blueprint(admin_bp)
    # The receipt's scan streams into the encrypted store like evidence.
    uploads.register(app, "packets.submit", uploads.StreamedUpload(
        max_bytes=evidence_services.max_upload_bytes, open_sink=evidence_services.open_sink))


def _actor():  # type: ignore[no-untyped-def]
    return current_user._get_current_object()


@bp.route("")
@access.roles(Role.COORDINATOR)
def index() -> str:
    packets = db.session.scalars(access.visible_packets(_actor()).order_by(Packet.id.desc()).limit(200))
    return render_template("packets/index.html", packets=list(packets))


def _fill_choices(form: PacketForm) -> None:
    locale = str(get_locale() or "en")
    form.recipient.choices = [(r.code, r.name) for r in services.active_recipients()]
    form.prefecture.choices = [("", _("Any prefecture"))] + [(p.code, p.label(locale)) for p in prefectures()]
    teams = db.session.scalars(select(Team).order_by(Team.name))
    form.team.choices = [("", _("Any team"))] + [(str(team.id), team.name) for team in teams]


def _offered(field: Field, value: object) -> bool:
    """Whether ``value`` is one of a choice field's choices (read before the form is validated)."""
    return value in {choice[0] for choice in field.iter_choices()}


def _criteria(form: PacketForm) -> services.Criteria:
    # Read before validation (see ``create``): only values the form offers reach a query.
    team = form.team.data if _offered(form.team, form.team.data) else ""
    return services.Criteria(
        references=form.well_formed_references(),
        statuses=[status for status in form.statuses.data or [] if status in vocab.STATUSES],
        prefecture=form.prefecture.data if _offered(form.prefecture, form.prefecture.data) else "",
        team_id=int(team) if team else None,
        detained_from=form.detained_from.parsed, detained_to=form.detained_to.parsed,
        min_verification=form.min_verification.data if isinstance(form.min_verification.data, int) else 0,
    )


def _letter(form: PacketForm) -> services.Letter:
    return services.Letter(
        language=form.language.data, organisation=form.organisation.data or "", contact=form.contact.data or "",
        outgoing_reference=form.outgoing_reference.data or "", subject=form.subject.data or "",
        text=form.text.data or "", requests=list(form.requests.data or []),
        legal_basis=list(form.legal_basis.data or []), signatory_ids=list(form.signatories.data or []),
    )


@bp.route("/new", methods=["GET", "POST"])
@access.roles(Role.COORDINATOR)
@access.recent_auth(methods=("POST",), when_field="build")
def create() -> Response | str | tuple[str, int]:
    actor = _actor()
    form = PacketForm()
    _fill_choices(form)
    preview = None
    if form.is_submitted():
        recipient = _recipient_or_none(form.recipient.data) if _offered(form.recipient, form.recipient.data) else None
        # The selection decides which signatories may be chosen, so it comes before validation;
        # it reads only what parsed, and the validation then reports the rest.
        selection = services.select_cases(actor, recipient, _criteria(form)) if recipient else None
        if selection is not None and recipient is not None:
            form.signatories.choices = [(reporter.id, f"{reporter.full_name} · {case.reference}")
                                        for case, reporter in services.identity_reporters(selection, recipient)]
        valid = form.validate()
        if recipient is None:
            form.recipient.errors = [_("Choose a recipient.")]
        if selection is not None and recipient is not None:
            large = len(selection.included) > current_app.config["CASEFILE_PACKET_JOB_CASES"]
            if form.build.data and valid and large:
                # A large packet is built by a background job; its page follows it to the end.
                job = job_services.start(actor, kinds.PACKET, kinds.packet_params(
                    recipient.code, _criteria(form), _letter(form)), total=3)
                db.session.commit()
                job_services.dispatch(job)
                return redirect(url_for("jobs.show", job_id=job.id))
            if form.build.data and valid:
                try:
                    packet = services.build_packet(actor, recipient, _criteria(form), _letter(form), selection)
                except DomainError as error:
                    db.session.rollback()
                    show_error(form, error)
                else:
                    flash(_("Packet %(ref)s built with %(n)s cases.", ref=packet.reference, n=packet.case_count),
                          "success")
                    return redirect(url_for("packets.show", packet_ref=packet.reference))
            elif not form.text.data and _offered(form.language, form.language.data):
                form.text.data = services.default_letter(selection, recipient, form.language.data)
                form.subject.data = form.subject.data or services.DEFAULT_SUBJECT.get(form.language.data, "")
            if not form.legal_basis.data:
                form.legal_basis.data = services.default_legal_basis(selection, recipient)
            preview = {"selection": selection, "recipient": recipient, "reasons": services.LEFT_OUT_REASONS}
        status = 200 if form.preview.data and not form.errors else 400
        return render_template("packets/form.html", form=form, preview=preview), status
    settings = current_app.config["CASEFILE_SETTINGS"]
    form.organisation.data = settings.organisation_name
    form.contact.data = settings.organisation_contact
    return render_template("packets/form.html", form=form, preview=None)


def _recipient_or_none(code: str | None) -> Recipient | None:
    try:
        return services.recipient_by_code(code or "")
    except DomainError:
        return None


@bp.route("/<packet_ref>")
@access.roles(Role.COORDINATOR)
def show(packet_ref: str) -> str:
    packet = services.get_packet(_actor(), packet_ref)
    form = _submission_form()
    form.handed_over_on.data = services.today()
    return _packet_page(packet, submission_form=form)


def _packet_page(packet: Packet, submission_form: SubmissionForm) -> str:
    return render_template("packets/show.html", packet=packet, withdrawn=services.withdrawn_since(packet),
                           reasons=services.LEFT_OUT_REASONS, submission_form=submission_form,
                           channels=followup.CHANNELS, kinds=followup.RESPONSE_KINDS, outcomes=followup.OUTCOMES)


@bp.route("/<packet_ref>/pdf")
@access.roles(Role.COORDINATOR)
@access.recent_auth(methods=("GET",))
def pdf(packet_ref: str) -> Response:
    actor = _actor()
    packet = services.get_packet(actor, packet_ref)
    chunks = services.open_pdf(actor, packet)
    return _attachment(chunks, "application/pdf", f"{packet.reference}.pdf", packet.pdf_size)


@bp.route("/<packet_ref>/bundle.zip")
@access.roles(Role.COORDINATOR)
@access.recent_auth(methods=("GET",))
def zip_bundle(packet_ref: str) -> Response:
    actor = _actor()
    packet = services.get_packet(actor, packet_ref)
    chunks = bundle.stream(actor, packet)
    return _attachment(chunks, "application/zip", f"{packet.reference}.zip", None)


def _attachment(chunks, mimetype: str, filename: str, size: int | None) -> Response:  # type: ignore[no-untyped-def]
    headers = {"Content-Disposition": downloads.attachment_disposition(filename),
               "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}
    if size is not None:
        headers["Content-Length"] = str(size)
    return Response(chunks, mimetype=mimetype, headers=headers, direct_passthrough=True)


# --- recipients (admins) ----------------------------------------------------------------------

@admin_bp.route("")
@access.roles(Role.ADMIN)
def recipients() -> str:
    return render_template("packets/recipients.html", recipients=services.all_recipients())


@admin_bp.route("/new", methods=["GET", "POST"])
@admin_bp.route("/<int:recipient_id>/edit", methods=["GET", "POST"])
@access.roles(Role.ADMIN)
def edit_recipient(recipient_id: int | None = None) -> Response | str | tuple[str, int]:
    recipient = db.session.get(Recipient, recipient_id) if recipient_id else None
    if recipient_id and recipient is None:
        abort(404)
    if request.method == "POST":
        form = RecipientForm()
    elif recipient is not None:
        form = RecipientForm(formdata=None, data={
            "code": recipient.code, "name": recipient.name, "address": recipient.address,
            "consent_kind": recipient.consent_kind, "languages": recipient.languages, "form": recipient.form,
            "active": "yes" if recipient.active else "no", **DEFAULT_POLICY, **(recipient.policy or {})})
    else:
        form = RecipientForm(formdata=None, data={**DEFAULT_POLICY, "active": "yes", "consent_kind": "public"})
    if form.validate_on_submit():
        data = services.RecipientInput(
            code=form.code.data, name=form.name.data, address=form.address.data or "",
            consent_kind=form.consent_kind.data, languages=list(form.languages.data or []), form=form.form.data,
            policy=form.policy(), active=form.active.data == "yes")
        try:
            services.save_recipient(_actor(), recipient, data)
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            flash(_("Recipient saved."), "success")
            return redirect(url_for("recipients.recipients"))
    status = 400 if form.is_submitted() else 200
    return render_template("packets/recipient_form.html", form=form, recipient=recipient), status


# --- hand-over and answers ---------------------------------------------------------------------

def _submission_form() -> SubmissionForm:
    form = SubmissionForm()
    form.channel.choices = [(code, label) for code, label in followup.CHANNELS.items()]
    return form


@bp.route("/<packet_ref>/submissions", methods=["POST"])
@access.roles(Role.COORDINATOR)
def submit(packet_ref: str) -> Response | tuple[str, int]:
    actor = _actor()
    packet = services.get_packet(actor, packet_ref)
    form = _submission_form()
    if form.validate_on_submit():
        receipt = request.files.get("receipt")
        sink = receipt.stream if receipt is not None and isinstance(receipt.stream, PendingBlob) else None
        try:
            followup.record_submission(actor, packet, followup.SubmissionInput(
                handed_over_on=form.handed_over_on.data, channel=form.channel.data,
                handed_over_by=form.handed_over_by.data or "", receipt_number=form.receipt_number.data or "",
                follow_up_on=form.follow_up_on.data,
                receipt=(receipt.filename or "", sink) if sink is not None else None))
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            flash(_("Hand-over recorded."), "success")
            return redirect(url_for("packets.show", packet_ref=packet.reference, _anchor="submissions"))
    return _packet_page(packet, submission_form=form), 400


@bp.route("/<packet_ref>/submissions/<int:submission_id>/receipt")
@access.roles(Role.COORDINATOR)
@access.recent_auth(methods=("GET",))
def receipt(packet_ref: str, submission_id: int) -> Response:
    actor = _actor()
    submission = _submission(services.get_packet(actor, packet_ref), submission_id)
    if not submission.receipt_address:
        abort(404)
    chunks = followup.open_receipt(actor, submission)
    return _attachment(chunks, "application/octet-stream", submission.receipt_filename or "receipt",
                       submission.receipt_size)


def _submission(packet: Packet, submission_id: int):  # type: ignore[no-untyped-def]
    for submission in packet.submissions:
        if submission.id == submission_id:
            return submission
    abort(404)


@bp.route("/<packet_ref>/submissions/<int:submission_id>/responses/new", methods=["GET", "POST"])
@access.roles(Role.COORDINATOR)
def answer(packet_ref: str, submission_id: int) -> Response | str | tuple[str, int]:
    actor = _actor()
    packet = services.get_packet(actor, packet_ref)
    submission = _submission(packet, submission_id)
    form = ResponseForm()
    form.kind.choices = [(code, label) for code, label in followup.RESPONSE_KINDS.items()]
    outcomes = {row.case_id: request.form.get(f"outcome-{row.case_id}", "") for row in packet.cases}
    if form.validate_on_submit():
        try:
            followup.record_response(actor, submission, followup.ResponseInput(
                received_on=form.received_on.data, kind=form.kind.data, text=form.text.data or "",
                outcomes=outcomes))
        except DomainError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            flash(_("Answer recorded; the cases' timelines and statuses follow it."), "success")
            return redirect(url_for("packets.show", packet_ref=packet.reference, _anchor="submissions"))
    context = {"packet": packet, "submission": submission, "form": form, "outcomes": outcomes,
               "outcome_choices": followup.OUTCOMES}
    if form.is_submitted():
        return render_template("packets/response_form.html", **context), 400
    return render_template("packets/response_form.html", **context)


@bp.route("/awaiting")
@access.roles(Role.COORDINATOR)
def awaiting() -> str:
    submissions = followup.awaiting_answer(_actor(), services.today())
    return render_template("packets/awaiting.html", submissions=submissions, channels=followup.CHANNELS)
