"""The application factory: nothing happens at import time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from flask_login import current_user

from casefile.config import Settings, load_settings
from casefile.extensions import babel, csrf, db, login_manager, migrate

PACKAGE_ROOT = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_ROOT.parent
LOCALES = ("kk", "ru", "en")
_tripwire_installed = False


def _select_locale() -> str:
    # The account's saved choice, this browser's, its Accept-Language, English: casefile.web.language.
    from casefile.web.language import select_locale

    return select_locale()


def create_app(settings: Settings | None = None, **overrides: Any) -> Flask:
    """Build a configured app. ``settings`` defaults to the ``CASEFILE_*`` environment."""
    settings = settings or load_settings()
    app = Flask(
        "casefile",
        instance_path=str(settings.instance_path),
        template_folder=str(_templates_dir()),
        static_folder=str(PACKAGE_ROOT / "static"),
    )
    app.config.update(settings.flask_config())
    app.config.update(overrides)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(_migrations_dir()), render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    if settings.trusted_proxies:
        # Behind a reverse proxy: the client address (rate limits, audit) and scheme come from its headers.
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    babel.init_app(app, locale_selector=_select_locale)
    _init_login(app)
    _init_database_hooks(app)

    from casefile.admin.views import bp as admin_bp
    from casefile.audit.views import bp as audit_bp
    from casefile.auth import throttle
    from casefile.auth.views import bp as auth_bp
    from casefile.cases.views import bp as cases_bp
    from casefile.dashboard.views import bp as dashboard_bp
    from casefile.evidence import services as evidence_services
    from casefile.evidence import views as evidence_views
    from casefile.imports import views as import_views
    from casefile.jobs import views as job_views
    from casefile.matching import models as _matching_models  # noqa: F401
    from casefile.matching import views as matching_views
    from casefile.packets import views as packet_views
    from casefile.web import lifecycle, templating, uploads
    from casefile.web.views import bp as web_bp

    for blueprint in (web_bp, auth_bp, cases_bp, admin_bp, audit_bp, dashboard_bp):
        app.register_blueprint(blueprint)
    throttle.init_app(app)
    evidence_services.init_app(app)
    evidence_views.register(app)
    packet_views.register(app)
    matching_views.register(app)
    import_views.register(app)
    job_views.register(app)
    uploads.install(app)
    lifecycle.register(app)
    templating.register(app)

    from casefile import access

    access.public(app.view_functions["static"])
    return app


def _templates_dir() -> Path:
    # casefile runs from its checkout (`make install` is an editable install).
    return PROJECT_ROOT / "templates"


def _migrations_dir() -> Path:
    return PROJECT_ROOT / "migrations"


def _init_login(app: Flask) -> None:
    from casefile.auth.services import load_session_user

    login_manager.init_app(app)
    login_manager.session_protection = "basic"
    login_manager.login_view = "auth.login"
    login_manager.login_message = None  # type: ignore[assignment]
    login_manager.user_loader(load_session_user)

    @app.context_processor
    def _user() -> dict[str, Any]:
        return {"actor": current_user}


def _init_database_hooks(app: Flask) -> None:
    global _tripwire_installed
    from casefile.access import install_tripwire
    from casefile.db import install_sqlite_pragmas

    with app.app_context():
        install_sqlite_pragmas(db.engine)
    if not _tripwire_installed:
        install_tripwire()
        _tripwire_installed = True
