"""The home page (each role's starting point), the interface language switch and the health check."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import text
from werkzeug.wrappers import Response

from casefile import access
from casefile.auth.models import Role
from casefile.extensions import db
from casefile.web.forms import LanguageForm
from casefile.web.language import choose_locale

bp = Blueprint("web", __name__)


@bp.route("/")
@access.authenticated
def home() -> Response | str:
    if current_user.role in (Role.ADVOCATE, Role.COORDINATOR):
        return redirect(url_for("cases.index"))
    if current_user.role == Role.ADMIN:
        return redirect(url_for("admin.users"))
    return redirect(url_for("audit.index"))


@bp.route("/language", methods=["POST"])
@access.public
def language() -> Response:
    """Switch the interface language, then go back to the page the switch was on (``?next=``)."""
    form = LanguageForm()
    response = redirect(_back(request.args.get("next")) or url_for("web.home"))
    if form.validate_on_submit():
        choose_locale(current_user._get_current_object() if current_user.is_authenticated else None,
                      form.locale.data, response)
    else:
        flash(_("Choose one of the languages offered."), "error")
    return response


def _back(target: str | None) -> str | None:
    # Only a path on this site: no scheme, no host, no protocol-relative '//'.
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    return None if parts.scheme or parts.netloc else target


@bp.route("/health")
@access.public
def health() -> tuple[dict[str, str], int]:
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # any database failure means "not ready"
        return {"status": "unavailable"}, 503
    return {"status": "ok"}, 200
