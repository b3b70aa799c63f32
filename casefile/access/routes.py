"""Every route declares who may use it; a route that declares nothing is refused.

Default deny, as in SecureDrop: ``enforce_route_policy`` runs before every request, so a
forgotten declaration exposes nothing, and the route inventory test names it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from flask import Flask, current_app, redirect, request, url_for
from flask_login import current_user
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

F = TypeVar("F", bound=Callable[..., object])
PUBLIC = "public"
AUTHENTICATED = "authenticated"
_ATTRIBUTE = "_casefile_roles"
_REAUTH_ATTRIBUTE = "_casefile_recent_auth"


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


def recent_auth(methods: tuple[str, ...] = ("GET",), *, when_field: str | None = None) -> Callable[[F], F]:
    """Declare that a view needs the password (and second factor) confirmed in the last minutes.

    ``when_field`` narrows it to submissions that carry that field (the packet form's "build"
    button, not its "preview"). ``casefile.auth.reauth`` enforces it before the view runs.
    """

    def mark(view: F) -> F:
        setattr(view, _REAUTH_ATTRIBUTE, RecentAuth(frozenset(methods), when_field))
        return view

    return mark


@dataclass(frozen=True)
class RecentAuth:
    methods: frozenset[str]
    when_field: str | None = None

    def applies(self, method: str, form: Mapping[str, str]) -> bool:
        return method in self.methods and (self.when_field is None or self.when_field in form)


@dataclass(frozen=True)
class RoutePolicy:
    """One entry of the registry: who may use the route, and when it asks for the password again."""

    endpoint: str
    who: frozenset[str] | str | None
    recent_auth: RecentAuth | None


def route_registry(app: Flask) -> dict[str, RoutePolicy]:
    """Every endpoint of ``app`` with what its view declared (``who`` is None when it declared nothing)."""
    return {
        endpoint: RoutePolicy(endpoint, getattr(view, _ATTRIBUTE, None), getattr(view, _REAUTH_ATTRIBUTE, None))
        for endpoint, view in app.view_functions.items()
    }


def recent_auth_required(endpoint: str) -> RecentAuth | None:
    view = current_app.view_functions.get(endpoint)
    return getattr(view, _REAUTH_ATTRIBUTE, None) if view is not None else None


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
