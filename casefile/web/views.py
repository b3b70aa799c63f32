"""The home page (each role's starting point) and the health check."""

from __future__ import annotations

from flask import Blueprint, redirect, url_for
from flask_login import current_user
from sqlalchemy import text
from werkzeug.wrappers import Response

from casefile import access
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
    return redirect(url_for("audit.index"))


@bp.route("/health")
@access.public
def health() -> tuple[dict[str, str], int]:
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # any database failure means "not ready"
        return {"status": "unavailable"}, 503
    return {"status": "ok"}, 200
