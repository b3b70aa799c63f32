"""Job pages: the list of one's own jobs, a job's page (refreshing itself while it runs), its
status as JSON for the progress script, the auditors' evidence verify and the admins' backup."""

from __future__ import annotations

import secrets

from flask import Blueprint, Flask, abort, jsonify, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.routing import BuildError
from werkzeug.wrappers import Response

from casefile import access
from casefile.audit.forms import VerifyForm
from casefile.auth.models import Role
from casefile.core.errors import NotAllowed
from casefile.db import utcnow
from casefile.extensions import db
from casefile.jobs import kinds, services
from casefile.jobs.models import Job

bp = Blueprint("jobs", __name__, url_prefix="/jobs")
# While a job runs, its page reloads itself this often where scripts are off.
REFRESH_SECONDS = 2


def register(app: Flask) -> None:
    app.register_blueprint(bp)


def _actor():  # type: ignore[no-untyped-def]
    return current_user._get_current_object()


def _job(job_id: int) -> Job:
    try:
        job = services.get_job(_actor(), job_id)
        if services.reap_if_orphaned(job):  # its process died: say so rather than "running" for ever
            job = services.get_job(_actor(), job_id)
        return job
    except NotAllowed:
        abort(404)


def _result_link(job: Job) -> str | None:
    """The page of what the job made; that page checks access again when it is opened."""
    endpoint = (job.result or {}).get("endpoint")
    if job.state != "done" or not endpoint:
        return None
    try:
        return url_for(endpoint, **(job.result.get("values") or {}))
    except BuildError:
        return None


@bp.route("")
@access.authenticated
def index() -> str:
    actor = _actor()
    return render_template("jobs/index.html", jobs=services.my_jobs(actor), label=services.kind_label,
                           verify_form=VerifyForm() if actor.role == Role.AUDITOR else None,
                           backup_form=VerifyForm() if actor.role == Role.ADMIN else None)


@bp.route("/<int:job_id>")
@access.authenticated
def show(job_id: int) -> str:
    job = _job(job_id)
    return render_template("jobs/show.html", job=job, status=services.status(job), label=services.kind_label,
                           link=_result_link(job), refresh=REFRESH_SECONDS)


@bp.route("/<int:job_id>/status.json")
@access.authenticated
def status(job_id: int) -> Response:
    job = _job(job_id)
    return jsonify(services.status(job) | {"link": _result_link(job)})


@bp.route("/evidence-verify", methods=["POST"])
@access.roles(Role.AUDITOR)
def evidence_verify() -> Response:
    if not VerifyForm().validate_on_submit():  # CSRFProtect refuses a missing token before this
        abort(400)
    job = services.start(_actor(), kinds.EVIDENCE_VERIFY, {})
    db.session.commit()
    services.dispatch(job)
    return redirect(url_for("jobs.show", job_id=job.id))


@bp.route("/backup", methods=["POST"])
@access.roles(Role.ADMIN)
def backup() -> Response:
    if not VerifyForm().validate_on_submit():  # the same bare form: a POST with its CSRF token
        abort(400)
    name = f"casefile-{utcnow().strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(4)}.backup"
    job = services.start(_actor(), kinds.BACKUP, {"name": name})
    db.session.commit()
    services.dispatch(job)
    return redirect(url_for("jobs.show", job_id=job.id))
