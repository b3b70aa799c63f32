"""``casefile backup``, ``casefile restore`` and ``casefile keys rotate``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from flask.cli import with_appcontext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from casefile.cli_i18n import TranslatedCommand, TranslatedGroup, option
from casefile.extensions import db


class _Bar:
    """A click progress bar opened on the first report, when the total is known."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.bar: Any = None
        self.shown = 0

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            self.bar = click.progressbar(length=max(total, 1), label=self.label, file=sys.stderr)
            self.bar.__enter__()
        self.bar.update(done - self.shown)
        self.shown = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


def _archive_key(key_file: str | None) -> tuple[bytes, bytes]:
    from flask import current_app

    from casefile.backup import archive
    from casefile.core.crypto import read_master_key

    if key_file:
        try:
            return archive.key_from_file(Path(key_file)), archive.KEY_FROM_FILE
        except archive.ArchiveError as error:
            raise click.ClickException(str(error)) from error
    master = read_master_key(current_app.config["CASEFILE_SETTINGS"].master_key_file)
    return archive.key_from_master(master), archive.KEY_FROM_MASTER


_KEY_FILE = option(
    "--key-file", envvar="CASEFILE_BACKUP_KEY_FILE", type=click.Path(exists=True, dir_okay=False),
    help=_l("A backup key file (64 hex characters) instead of a key derived from the master key "
            "[env: CASEFILE_BACKUP_KEY_FILE]."))


@click.command("backup", cls=TranslatedCommand, help=_l(
    "Write one encrypted archive of the database and every evidence file to OUT."))
@click.argument("out", type=click.Path(dir_okay=False))
@_KEY_FILE
@with_appcontext
def backup_command(out: str, key_file: str | None) -> None:
    from casefile.backup.services import write_backup

    if Path(out).exists():
        raise click.ClickException(_("%(path)s exists: choose a new name (a backup never overwrites another).",
                                     path=out))
    key, source = _archive_key(key_file)
    bar = _Bar(_("Backing up"))
    try:
        result = write_backup(out, key=key, key_source=source, progress=bar)
        db.session.commit()
    finally:
        bar.close()
    for address in result.missing_blobs:
        click.echo(_("warning: blob %(address)s is referenced but missing from the store; it is not in the backup",
                     address=address), err=True)
    rows = sum(result.tables.values())
    click.echo(_("Backup written to %(path)s: %(rows)s rows in %(tables)s tables, %(blobs)s blobs (%(blob_bytes)s "
                 "bytes), %(events)s audit events (head %(head)s), schema %(schema)s; %(size)s bytes in %(seconds)s "
                 "s. Archive SHA-256 %(sha256)s.", path=result.path, rows=f"{rows:,}", tables=len(result.tables),
                 blobs=result.blobs, blob_bytes=f"{result.blob_bytes:,}", events=result.audit_events,
                 head=result.audit_head, schema=result.schema_revision, size=f"{result.size:,}",
                 seconds=f"{result.seconds:.1f}", sha256=result.sha256))


@click.command("restore", cls=TranslatedCommand, help=_l(
    "Restore ARCHIVE into this instance, which must be empty; verify it all before saying so."))
@click.argument("archive", type=click.Path(exists=True, dir_okay=False))
@_KEY_FILE
@with_appcontext
def restore_command(archive: str, key_file: str | None) -> None:
    from casefile.backup.archive import ArchiveError
    from casefile.backup.services import RestoreRefused, restore_backup

    key, _source = _archive_key(key_file)
    bar = _Bar(_("Restoring"))
    try:
        result = restore_backup(archive, key=key, progress=bar)
        db.session.commit()
    except (ArchiveError, RestoreRefused) as error:
        db.session.rollback()
        bar.close()
        raise click.ClickException(_("Restore refused, nothing was restored: %(error)s", error=error)) from error
    finally:
        bar.close()
    for warning in result.warnings:
        click.echo(_("warning: %(warning)s", warning=warning), err=True)
    if result.schema_revision not in _schema_heads():
        click.echo(_("The archive's schema revision %(schema)s is older than this casefile's: run "
                     "`casefile db upgrade` before starting the app.", schema=result.schema_revision), err=True)
    click.echo(_("Restored the backup of %(created)s: %(rows)s rows, %(blobs)s blobs; every part matched the "
                 "manifest; audit chain intact (%(events)s events, head %(head)s); schema %(schema)s; %(seconds)s s.",
                 created=result.created_at, rows=f"{sum(result.tables.values()):,}", blobs=result.blobs,
                 events=result.audit_events, head=result.audit_head, schema=result.schema_revision,
                 seconds=f"{result.seconds:.1f}"))


def _schema_heads() -> tuple[str, ...]:
    from alembic.script import ScriptDirectory
    from flask import current_app

    config = current_app.extensions["migrate"].migrate.get_config()
    return tuple(ScriptDirectory.from_config(config).get_heads())


@click.group("keys", cls=TranslatedGroup, help=_l("Manage the master key."))
def keys_commands() -> None:
    pass


@keys_commands.command("rotate", with_appcontext=False, help=_l(
    "Re-wrap every evidence data key and re-seal every sealed field under a new master key.\n\n"
    "Stop the app and the worker first. An interrupted rotation is finished by running this again."))
@option("--new-key-file", type=click.Path(dir_okay=False),
        help=_l("Where to write the new master key (default: beside the current one, which it then replaces; "
                "the old key is kept as <file>.retired-<time>)."))
@option("--operator", default=None, help=_l("Who runs this, as the audit trail records it (default: the system "
                                            "user)."))
def rotate_command(new_key_file: str | None, operator: str | None) -> None:
    import getpass

    from flask.cli import ScriptInfo

    from casefile.core import keys

    with keys.rotation_allowed():
        app = click.get_current_context().ensure_object(ScriptInfo).load_app()
    with app.app_context():
        try:
            report = keys.rotate(Path(new_key_file) if new_key_file else None,
                                 operator or getpass.getuser(), progress=click.echo)
        except keys.RotationError as error:
            raise click.ClickException(str(error)) from error
    click.echo(report.summary())


def register(group: click.Group) -> None:
    for command in (backup_command, restore_command, keys_commands):
        group.add_command(command)
