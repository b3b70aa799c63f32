"""Every route declares who may use it; a route that declares nothing is refused.

Default deny, as in SecureDrop: ``enforce_route_policy`` runs before every request, so a
forgotten declaration exposes nothing, and the route inventory test names it.
"""

from __future__ import annotations

from typing import Callable, TypeVar

from flask import current_app, redirect, request, url_for
from flask_login import current_user
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

F = TypeVar("F", bound=Callable[..., object])
PUBLIC = "public"
AUTHENTICATED = "authenticated"
_ATTRIBUTE = "_casefile_roles"


def roles(*allowed: str) -> Callable[[F], F]:
    """Declare the roles that may use a view; anyone else gets a 404."""
    if not allowed:
        raise ValueError("declare at least one role")

    def mark(view: F) -> F:
        setattr(view, _ATTRIBUTE, frozenset(allowed))
        return view

    return mark


def public(view: F) -> F:
    """Declare a view usable without logging in (login page, health check)."""
    setattr(view, _ATTRIBUTE, PUBLIC)
    return view


def authenticated(view: F) -> F:
    """Declare a view usable by any logged-in user (home page, logout)."""
    setattr(view, _ATTRIBUTE, AUTHENTICATED)
    return view


def declared_roles(endpoint: str) -> frozenset[str] | str | None:
    """What a route declared: a set of roles, PUBLIC, AUTHENTICATED, or None (undeclared)."""
    view = current_app.view_functions.get(endpoint)
    return getattr(view, _ATTRIBUTE, None) if view is not None else None


def enforce_route_policy() -> Response | None:
    """Before every request: let it through, send it to the login page, or answer 404."""
    if request.endpoint is None:
        return None  # no route matched; Flask answers 404 or 405 itself
    policy = declared_roles(request.endpoint)
    if policy == PUBLIC:
        return None
    if policy is None:
        current_app.logger.error("route %s declares no access policy", request.endpoint)
        raise NotFound()
    if not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.full_path if request.method == "GET" else None))
    if policy == AUTHENTICATED or current_user.role in policy:
        return None
    raise NotFound()
