"""The home page (each role's starting point) and the health check."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import func, select, text
from werkzeug.wrappers import Response

from casefile import access
from casefile.audit.models import AuditEvent
from casefile.auth.models import Role
from casefile.extensions import db

bp = Blueprint("web", __name__)


@bp.route("/")
@access.authenticated
def home() -> Response | str:
    if current_user.role in (Role.ADVOCATE, Role.COORDINATOR):
        return redirect(url_for("cases.index"))
    if current_user.role == Role.ADMIN:
        return redirect(url_for("admin.users"))
    return redirect(url_for("web.audit_overview"))


@bp.route("/audit")
@access.roles(Role.AUDITOR)
def audit_overview() -> str:
    """The auditor's view of the trail: its head and the latest events (no case content)."""
    head = db.session.execute(select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)).first()
    count = db.session.scalar(select(func.count(AuditEvent.id))) or 0
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(100))
    return render_template("web/audit.html", head=head, count=count, events=events)


@bp.route("/health")
@access.public
def health() -> tuple[dict[str, str], int]:
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # any database failure means "not ready"
        return {"status": "unavailable"}, 503
    return {"status": "ok"}, 200
