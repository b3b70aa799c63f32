"""Translated help for commands and options (``casefile ... --help`` in the command's language).

click cleans an option's help when the option is declared, at import time, which would turn a
lazy string into English for good; and --help is printed before our commands have an app context
(Flask pushes one only for the commands of ``app.cli``), where Flask-Babel translates nothing.
These classes keep the ``lazy_gettext`` text and render it inside an app context of the
command's app, so in the language ``casefile.web.language.command_locale`` picks.
"""

from __future__ import annotations

import inspect
from typing import Any

import click
from flask import has_app_context
from flask.cli import AppGroup, FlaskGroup, ScriptInfo


def _render(text: Any, ctx: click.Context | None) -> str:
    if has_app_context() or ctx is None:
        return str(text)
    try:
        app = ctx.ensure_object(ScriptInfo).load_app()
    except Exception:  # help must print even when the app cannot start: in English then
        return str(text)
    with app.app_context():
        return str(text)


class TranslatedOption(click.Option):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.lazy_help = kwargs.get("help")
        super().__init__(*args, **kwargs)

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        if self.lazy_help is not None:
            self.help = inspect.cleandoc(_render(self.lazy_help, ctx))
        return super().get_help_record(ctx)


class _TranslatedHelp:
    """Mixed into a command class: its ``help`` may be a ``lazy_gettext`` string."""

    help: Any

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_help = self.help

    def _translate_help(self, ctx: click.Context | None) -> None:
        if self.lazy_help is not None:
            self.help = _render(self.lazy_help, ctx)

    def get_short_help_str(self, limit: int = 45) -> str:
        self._translate_help(click.get_current_context(silent=True))
        return super().get_short_help_str(limit)  # type: ignore[misc, no-any-return]

    def format_help_text(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self._translate_help(ctx)
        super().format_help_text(ctx, formatter)  # type: ignore[misc]


class TranslatedCommand(_TranslatedHelp, click.Command):
    pass


class TranslatedGroup(_TranslatedHelp, AppGroup):
    """An ``AppGroup`` whose commands and subgroups translate their help too."""

    command_class = TranslatedCommand

    def group(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("cls", TranslatedGroup)
        return super().group(*args, **kwargs)


class TranslatedFlaskGroup(_TranslatedHelp, FlaskGroup):
    command_class = TranslatedCommand

    def group(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("cls", TranslatedGroup)
        return super().group(*args, **kwargs)


def option(*param_decls: str, **attrs: Any) -> Any:
    """``click.option`` with a help text that may be a ``lazy_gettext`` string."""
    return click.option(*param_decls, cls=TranslatedOption, **attrs)
