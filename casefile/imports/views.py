"""The import steps in the browser: upload, preview and mapping, checking and duplicate review, commit."""

from __future__ import annotations

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from casefile import access, audit
from casefile.cases import vocab
from casefile.cases.services import assignable_teams
from casefile.core.addresses import refuse_impossible
from casefile.core.errors import DomainError, NotAllowed
from casefile.core.forms import show_error
from casefile.evidence import services as store_services
from casefile.evidence.storage import PendingBlob
from casefile.extensions import db
from casefile.imports import columns, services
from casefile.imports.forms import CommitForm, DiscardForm, UploadForm, mapping_form, posted_mapping
from casefile.imports.models import ImportBatch
from casefile.jobs import kinds
from casefile.jobs import services as job_services
from casefile.web import uploads

bp = Blueprint("imports", __name__, url_prefix="/imports")
bp.url_value_preprocessor(refuse_impossible)
IMPORT_ROLES = tuple(role.value for role in services.IMPORT_ROLES)
SAMPLE = "sample_import.csv"


def _actor():  # type: ignore[no-untyped-def]
    return current_user._get_current_object()


def register(app: Flask) -> None:
    app.register_blueprint(bp)
    # The file goes straight into the sealed store, never as plaintext into a temporary file.
    uploads.register(app, "imports.index", uploads.StreamedUpload(
        max_bytes=lambda: services.max_bytes() + 2**20, open_sink=store_services.open_sink))


def _batch(batch_id: int) -> ImportBatch:
    try:
        return services.get_batch(_actor(), batch_id)
    except NotAllowed:
        abort(404)


@bp.route("", methods=["GET", "POST"])
@access.roles(*IMPORT_ROLES)
def index() -> Response | str | tuple[str, int]:
    actor = _actor()
    form = UploadForm()
    form.team_id.choices = [(team.id, team.name) for team in assignable_teams(actor)]
    if form.validate_on_submit():
        upload = request.files.get("file")
        if upload is None or not upload.filename or not isinstance(upload.stream, PendingBlob):
            form.file.errors = [_("Choose a file.")]
        else:
            try:
                batch = services.stage(actor, form.team_id.data, upload.filename, upload.stream)
            except DomainError as error:
                db.session.rollback()
                show_error(form, error)
            else:
                return redirect(url_for("imports.mapping", batch_id=batch.id))
    context = {"form": form, "batches": services.my_batches(actor), "max_mb": services.max_bytes() // 2**20,
               "canonical": columns.CANONICAL, "aliases": columns.ALIASES}
    if form.is_submitted():
        return render_template("imports/index.html", **context), 400
    return render_template("imports/index.html", **context)


@bp.route("/sample.csv")
@access.roles(*IMPORT_ROLES)
def sample() -> Response:
    from casefile.imports import SAMPLE_PATH

    return send_file(SAMPLE_PATH, mimetype="text/csv", as_attachment=True, download_name=SAMPLE)


@bp.route("/<int:batch_id>", methods=["GET", "POST"])
@access.roles(*IMPORT_ROLES)
def mapping(batch_id: int) -> Response | str | tuple[str, int]:
    actor = _actor()
    batch = _batch(batch_id)
    if batch.state != "staged":
        return redirect(url_for("imports.review", batch_id=batch.id))
    try:
        table = services.batch_table(batch)
    except DomainError as error:
        flash(str(error), "error")
        return redirect(url_for("imports.index"))
    saved = services.saved_mappings()
    chosen = next((m for m in saved if str(m.id) == request.args.get("saved")), None)
    proposed = batch.columns if batch.columns and chosen is None else services.proposed_mapping(table, chosen)
    form = mapping_form(table.headers, proposed, [(m.id, m.name) for m in saved],
                        formdata=request.form if request.method == "POST" else None)
    if form.validate_on_submit():
        if request.form.get("action") == "apply":
            return redirect(url_for("imports.mapping", batch_id=batch.id, saved=form.saved_mapping.data))
        chosen_mapping = posted_mapping(form, table.headers)
        try:
            checked = services.check_mapping(table, chosen_mapping)
            if form.mapping_name.data:
                services.save_mapping(actor, form.mapping_name.data, checked)
        except DomainError as error:
            db.session.rollback()
            show_error(form, error)
        else:
            batch.columns = checked
            return redirect(url_for("imports.review", batch_id=batch.id))
    audit.record(actor, "import.preview", object_type="import", object_id=batch.id)
    context = {"batch": batch, "table": table, "form": form, "preview": table.rows[:services.PREVIEW_ROWS],
               "fields": [getattr(form, f"column_{i}") for i in range(len(table.headers))]}
    if form.is_submitted():
        return render_template("imports/mapping.html", **context), 400
    return render_template("imports/mapping.html", **context)


@bp.route("/<int:batch_id>/review")
@access.roles(*IMPORT_ROLES)
def review(batch_id: int) -> Response | str:
    actor = _actor()
    batch = _batch(batch_id)
    if batch.state != "staged":
        return render_template("imports/report.html", batch=batch, report=batch.report)
    if not batch.columns:
        return redirect(url_for("imports.mapping", batch_id=batch.id))
    try:
        result = services.review(actor, services.batch_table(batch), batch.columns, batch.filename)
    except DomainError as error:
        flash(str(error), "error")
        return redirect(url_for("imports.mapping", batch_id=batch.id))
    audit.record(actor, "import.review", object_type="import", object_id=batch.id,
                 details={"rows": len(result.rows), "errors": len(result.errors),
                          "flagged": len(result.flagged)})
    return render_template("imports/review.html", batch=batch, result=result, form=CommitForm(),
                           discard_form=DiscardForm(), statuses=vocab.STATUSES)


def _posted_decisions() -> dict[int, str]:
    decisions = {}
    for key, value in request.form.items():
        if key.startswith("row-") and key[4:].isdigit():
            decisions[int(key[4:])] = value
    return decisions


@bp.route("/<int:batch_id>/commit", methods=["POST"])
@access.roles(*IMPORT_ROLES)
def commit(batch_id: int) -> Response:
    actor = _actor()
    batch = _batch(batch_id)
    if not CommitForm().validate_on_submit():
        abort(400)
    if batch.state == "staged" and batch.row_count > current_app.config["CASEFILE_IMPORT_JOB_ROWS"]:
        # A large file goes in as a background job; its page follows it to the end.
        job = job_services.start(actor, kinds.IMPORT, {"batch_id": batch.id, "decisions": _posted_decisions()},
                                 total=2 * batch.row_count)
        db.session.commit()
        job_services.dispatch(job)
        return redirect(url_for("jobs.show", job_id=job.id))
    try:
        result = services.review(actor, services.batch_table(batch), batch.columns, batch.filename)
        report = services.commit(actor, batch, result, services.resolve_decisions(result, _posted_decisions()))
    except DomainError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("imports.review", batch_id=batch_id))
    flash(_("Imported %(cases)s case(s): %(people)s new people, %(linked)s row(s) linked to people already "
            "recorded, %(reporters)s reporter(s).", cases=report.cases, people=report.people,
            linked=len(report.linked), reporters=report.reporters), "success")
    return redirect(url_for("imports.review", batch_id=batch.id))


@bp.route("/<int:batch_id>/discard", methods=["POST"])
@access.roles(*IMPORT_ROLES)
def discard(batch_id: int) -> Response:
    actor = _actor()
    batch = _batch(batch_id)
    if not DiscardForm().validate_on_submit():
        abort(400)
    try:
        address = services.discard(actor, batch)
    except DomainError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("imports.index"))
    db.session.commit()
    if address:
        store_services.delete_if_unused(address)
    flash(_("The file was discarded; nothing was imported."), "success")
    return redirect(url_for("imports.index"))
