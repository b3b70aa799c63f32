"""The coordinators' duplicates queue: pairs side by side, merge, "not the same person"."""

from __future__ import annotations

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from casefile import access
from casefile.auth.models import Role
from casefile.core.addresses import refuse_impossible
from casefile.core.errors import DomainError
from casefile.extensions import db
from casefile.matching import review
from casefile.matching.forms import DistinctForm, MergeForm

bp = Blueprint("matching", __name__, url_prefix="/people/duplicates")
bp.url_value_preprocessor(refuse_impossible)
MAX_PAGE = 1_000_000


def register(app: Flask) -> None:
    app.register_blueprint(bp)


def _actor():  # type: ignore[no-untyped-def]
    return current_user._get_current_object()


def _ordered_or_404(first_id: int, second_id: int) -> None:
    if not first_id < second_id:
        abort(404)


@bp.route("")
@access.roles(Role.COORDINATOR)
def queue() -> str:
    page = request.args.get("page", default=1, type=int) or 1
    page = min(max(page, 1), MAX_PAGE)
    return render_template("matching/queue.html", page=review.open_candidates(_actor(), page),
                           merge_form=MergeForm(), distinct_form=DistinctForm())


@bp.route("/<int:first_id>/<int:second_id>")
@access.roles(Role.COORDINATOR)
def pair(first_id: int, second_id: int) -> str:
    _ordered_or_404(first_id, second_id)
    return _pair_page(first_id, second_id, MergeForm())


def _pair_page(first_id: int, second_id: int, merge_form: MergeForm) -> str:
    return render_template("matching/pair.html", pair=review.get_pair(_actor(), first_id, second_id),
                           merge_form=merge_form, distinct_form=DistinctForm())


@bp.route("/<int:first_id>/<int:second_id>/merge", methods=["POST"])
@access.roles(Role.COORDINATOR)
def merge(first_id: int, second_id: int) -> Response | tuple[str, int]:
    _ordered_or_404(first_id, second_id)
    form = MergeForm()
    if form.validate_on_submit():
        if form.keep.data not in (first_id, second_id):
            abort(404)
        merged_id = second_id if form.keep.data == first_id else first_id
        try:
            result = review.merge(_actor(), form.keep.data, merged_id)
        except DomainError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            message = _("Record %(merged)s merged into record %(kept)s; %(n)s case(s) moved.",
                        merged=merged_id, kept=result.kept.id, n=len(result.moved))
            if result.conflicts:
                fields = ", ".join(str(review.FIELD_LABELS.get(name, name)) for name in result.conflicts)
                message += " " + _("Different values were kept as they were in record %(kept)s: %(fields)s.",
                                   kept=result.kept.id, fields=fields)
            flash(message, "success")
            return redirect(url_for("matching.queue"))
    db.session.rollback()
    return _pair_page(first_id, second_id, form), 400


@bp.route("/<int:first_id>/<int:second_id>/distinct", methods=["POST"])
@access.roles(Role.COORDINATOR)
def distinct(first_id: int, second_id: int) -> Response | tuple[str, int]:
    _ordered_or_404(first_id, second_id)
    form = DistinctForm()
    if form.validate_on_submit():
        try:
            review.mark_distinct(_actor(), first_id, second_id)
        except DomainError as error:
            db.session.rollback()
            flash(str(error), "error")
        else:
            flash(_("Records %(first)s and %(second)s are marked as different people; they will not be proposed "
                    "again.", first=first_id, second=second_id), "success")
            return redirect(url_for("matching.queue"))
    db.session.rollback()
    return _pair_page(first_id, second_id, MergeForm()), 400
