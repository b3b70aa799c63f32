"""Evidence pages under a case: the log, adding, an item with its custody trail, preview, download, removal."""

from __future__ import annotations

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.datastructures import Headers
from werkzeug.wrappers import Response

from casefile import access
from casefile.auth.models import Role
from casefile.cases import services as case_services
from casefile.core.addresses import refuse_impossible
from casefile.core.errors import DomainError
from casefile.core.forms import show_error
from casefile.evidence import services, vocab
from casefile.evidence.forms import ITEM_ID, EvidenceForm, TombstoneForm
from casefile.evidence.storage import BlobMissing, PendingBlob
from casefile.extensions import db
from casefile.web import downloads, uploads

bp = Blueprint("evidence", __name__, url_prefix="/cases/<reference>/evidence")
CASE_ROLES = (Role.ADVOCATE, Role.COORDINATOR)

bp.url_value_preprocessor(refuse_impossible)


def _actor():  # type: ignore[no-untyped-def]
    return current_user._get_current_object()


def register(app: Flask) -> None:
    app.register_blueprint(bp)
    uploads.register(app, "evidence.create",
                     uploads.StreamedUpload(max_bytes=services.max_upload_bytes, open_sink=services.open_sink))


@bp.route("")
@access.roles(*CASE_ROLES)
def log(reference: str) -> str:
    actor = _actor()
    case = case_services.view_case(actor, reference, "evidence")
    show_removed = request.args.get("show") == "all"
    return render_template(
        "evidence/log.html", case=case, items=services.case_log(actor, case, include_removed=show_removed),
        show_removed=show_removed, removed=services.removed_count(actor, case), vocab=vocab,
        can_edit=access.can_edit_case(actor, case),
    )


@bp.route("/new", methods=["GET", "POST"])
@access.roles(*CASE_ROLES)
def create(reference: str) -> Response | str | tuple[str, int]:
    actor = _actor()
    posted = request.method == "POST"
    case = access.get_case(actor, reference) if posted else case_services.view_case(actor, reference, "evidence-form")
    if not access.can_edit_case(actor, case):
        abort(404)
    form = EvidenceForm()
    if not posted and ITEM_ID.fullmatch(request.args.get("corrects", "")):
        form.corrects_id.data = request.args["corrects"]
    corrected = _corrected(actor, case, form)
    if form.validate_on_submit():
        try:
            result = services.add_evidence(actor, case, _input(form), _uploads())
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            return _after_add(case, result)
    context = {"case": case, "form": form, "corrected": corrected, "max_mb": services.max_upload_bytes() // 2**20}
    if form.is_submitted():
        return render_template("evidence/form.html", **context), 400
    return render_template("evidence/form.html", **context)


def _corrected(actor, case, form):  # type: ignore[no-untyped-def]
    if not form.corrects:
        return None
    try:
        return services.get_item(actor, case, form.corrects)
    except Exception:
        return None


def _input(form: EvidenceForm) -> services.EvidenceInput:
    return services.EvidenceInput(
        kind=form.kind.data, description=form.description.data or "", source=form.source.data or "",
        document_date=form.document_date.parsed, original_url=form.original_url.data or "",
        note=form.note.data or "", corrects_id=form.corrects,
    )


def _uploads() -> list[services.Upload]:
    found = []
    for storage in request.files.getlist("files"):
        if not isinstance(storage.stream, PendingBlob):
            abort(400)
        found.append(services.Upload(storage.filename or "", storage.stream))
    return found


def _after_add(case, result: services.AddResult) -> Response:  # type: ignore[no-untyped-def]
    for item in result.added:
        what = item.filename if not item.is_note else _("Note")
        flash(_("%(what)s added as item #%(id)s.", what=what, id=item.id), "success")
    for filename, existing in result.duplicates:
        flash({"text": _("%(name)s is already in this case:", name=filename),
               "href": url_for("evidence.show", reference=case.reference, item_id=existing.id),
               "link": _("item #%(id)s", id=existing.id)}, "notice")
    if len(result.added) == 1 and not result.duplicates:
        return redirect(url_for("evidence.show", reference=case.reference, item_id=result.added[0].id))
    return redirect(url_for("cases.show", reference=case.reference, _anchor="evidence"))


@bp.route("/<int:item_id>")
@access.roles(*CASE_ROLES)
def show(reference: str, item_id: int) -> str:
    actor = _actor()
    case = access.get_case(actor, reference)
    item = services.view_item(actor, case, item_id)
    return render_template("evidence/item.html", case=case, item=item, vocab=vocab,
                           can_edit=access.can_edit_case(actor, case),
                           tombstone_form=TombstoneForm())


@bp.route("/<int:item_id>/preview")
@access.roles(*CASE_ROLES)
def preview(reference: str, item_id: int) -> Response:
    actor = _actor()
    case = access.get_case(actor, reference)
    image = services.preview_bytes(actor, case, item_id)
    return Response(image, mimetype="image/jpeg", headers={"Content-Disposition": "inline; filename=preview.jpg"})


@bp.route("/<int:item_id>/download")
@access.roles(*CASE_ROLES)
@access.recent_auth(methods=("GET",))
def download(reference: str, item_id: int) -> Response:
    actor = _actor()
    case = access.get_case(actor, reference)
    try:
        original = services.download(actor, case, item_id)
    except BlobMissing:
        db.session.commit()  # keep the failed attempt in the trail; the error page rolls back otherwise
        return Response(render_template("errors/error.html", code=500, title=_("File missing"), message=_(
            "The stored file of this item is missing. Nothing was sent. Ask an operator to run "
            "`casefile evidence verify`.")), status=500)
    headers = Headers()
    headers.set("Content-Disposition", downloads.attachment_disposition(original.filename))
    headers.set("Content-Length", str(original.size))
    headers.set("X-Content-Type-Options", "nosniff")
    headers.set("Cache-Control", "no-store")
    # The request's transaction (custody and audit events) commits before the body is sent.
    return Response(original.chunks, mimetype=original.content_type, headers=headers, direct_passthrough=True)


@bp.route("/<int:item_id>/remove", methods=["POST"])
@access.roles(*CASE_ROLES)
def remove(reference: str, item_id: int) -> Response | tuple[str, int]:
    actor = _actor()
    case = access.get_case(actor, reference)
    form = TombstoneForm()
    if form.validate_on_submit():
        try:
            services.tombstone(actor, case, item_id, form.reason.data or "")
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            flash(_("Item #%(id)s removed. It stays in the log and in storage.", id=item_id), "success")
            return redirect(url_for("cases.show", reference=case.reference, _anchor="evidence"))
    item = services.get_item(actor, case, item_id)
    return render_template("evidence/item.html", case=case, item=item, vocab=vocab,
                           can_edit=access.can_edit_case(actor, case), tombstone_form=form), 400
