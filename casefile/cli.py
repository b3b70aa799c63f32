"""The ``casefile`` command line: run, db, users, demo, audit, evidence, packets, import, duplicates."""

from __future__ import annotations

import getpass
import sys
from typing import Any

import click
from flask import Flask
from flask.cli import with_appcontext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from casefile import audit
from casefile.cli_i18n import TranslatedFlaskGroup, option
from casefile.config import ConfigError
from casefile.core.errors import DomainError
from casefile.extensions import db


def _create_app() -> Flask:
    from casefile.app import create_app

    try:
        return create_app()
    except ConfigError as error:
        raise click.ClickException(str(error)) from error


@click.group(cls=TranslatedFlaskGroup, create_app=_create_app, add_version_option=False,
             help=_l("casefile: case records, evidence and petition packets."))
def main() -> None:
    audit.set_client("cli")


@main.group(help=_l("Manage accounts."))
def users() -> None:
    pass


@users.command("create", help=_l("Create an account."))
@option("--username", required=True, help=_l("Login name: lower-case letters, digits, . _ -"))
@option("--role", required=True, type=click.Choice(["advocate", "coordinator", "auditor", "admin"]))
@option("--team", "teams", multiple=True, help=_l("A team (repeatable); created when it does not exist."))
@option("--display-name", default="", help=_l("The name shown in the interface."))
@option("--password-stdin", is_flag=True, help=_l("Read the password from standard input."))
@with_appcontext
def create_user_command(username: str, role: str, teams: tuple[str, ...], display_name: str,
                        password_stdin: bool) -> None:
    from casefile.auth import services

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass(_("Password: "))
        if getpass.getpass(_("Repeat: ")) != password:
            raise click.ClickException(_("The passwords differ."))
    try:
        user = services.create_user(None, username=username, role=role, password=password, teams=teams,
                                    display_name=display_name)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    if teams:
        click.echo(_("Created %(role)s %(username)s in %(teams)s.", role=user.role, username=user.username,
                     teams=", ".join(teams)))
    else:
        click.echo(_("Created %(role)s %(username)s.", role=user.role, username=user.username))


@main.command("demo", help=_l("Fill an empty instance with a demo organisation (fictional people)."))
@option("--cases", "case_count", default=200, show_default=True, type=click.IntRange(1, 5000))
@option("--seed", default=2025, show_default=True, help=_l("Random seed, for a repeatable organisation."))
@with_appcontext
def demo_command(case_count: int, seed: int) -> None:
    from casefile.demo.generator import DemoRefused, build_demo

    try:
        accounts = build_demo(case_count=case_count, seed=seed)
        db.session.commit()
    except DemoRefused as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    click.echo(_("Demo organisation created with %(count)s fictional cases.", count=case_count))
    click.echo(_("Accounts (passwords are shown once, write them down):"))
    for username, role, password in accounts:
        click.echo(f"  {role:<12} {username:<14} {password}")


@main.group("audit", help=_l("Check the audit trail."))
def audit_commands() -> None:
    pass


@audit_commands.command("verify", help=_l(
    "Walk the audit chain: exit 0 when it is intact, 1 naming the first broken event."))
@with_appcontext
def audit_verify_command() -> None:
    from casefile.audit.verify import verify_chain

    report = verify_chain(db.session)
    # Recorded after the walk, whatever it found: the check itself is part of the trail.
    audit.record(None, "audit.verify", object_type="audit_chain", outcome="success" if report.ok else "failure",
                 details={"ok": report.ok, "count": report.count, "first_broken_seq": report.first_broken_seq,
                          "kind": report.kind, "head_hash": report.head_hash})
    db.session.commit()
    if not report.ok:
        raise click.ClickException(report.message)
    click.echo(_("Audit chain intact: %(count)s events, head hash %(hash)s.", count=report.count,
                 hash=report.head_hash))


@audit_commands.command("head", help=_l(
    "Print the head hash and the event count, to write down somewhere outside this server."))
@with_appcontext
def audit_head_command() -> None:
    from casefile.audit.verify import chain_head

    count, _head_seq, head_hash = chain_head(db.session)
    db.session.rollback()
    click.echo(_("%(count)s events, head hash %(hash)s", count=count, hash=head_hash))


@main.group("evidence", help=_l("Check, clean and (as an operator) purge the evidence store."))
def evidence_commands() -> None:
    pass


@evidence_commands.command("verify", help=_l(
    "Decrypt and re-hash every stored file: exit 1 naming every missing, altered or mismatched one."))
@with_appcontext
def evidence_verify_command() -> None:
    from casefile.evidence import integrity, services

    store = services.store()
    expected = len(integrity.stored_blobs())
    with click.progressbar(length=expected, label=_("Verifying evidence"), file=sys.stderr) as bar:
        report = integrity.verify_store(store, progress=bar.update)
    audit.record(None, "evidence.verify", object_type="evidence_store", outcome="success" if report.ok else "failure",
                 details={"blobs": report.blobs, "items": report.items, "problems": len(report.problems),
                          "problem_items": sorted(i for p in report.problems for i in p.item_ids)})
    db.session.commit()
    for problem in report.problems:
        click.echo(problem.describe(), err=True)
    rate = report.bytes / 2**20 / report.seconds if report.seconds else 0.0
    figures = {"items": report.items, "others": report.others, "blobs": report.blobs, "bytes": f"{report.bytes:,}",
               "seconds": f"{report.seconds:.1f}", "rate": f"{rate:.0f}"}
    if report.others:
        summary = _("%(items)s items and %(others)s packet or receipt file(s) in %(blobs)s blobs checked, "
                    "%(bytes)s bytes in %(seconds)s s (%(rate)s MiB/s)", **figures)
    else:
        summary = _("%(items)s items in %(blobs)s blobs checked, %(bytes)s bytes in %(seconds)s s (%(rate)s MiB/s)",
                    **figures)
    if not report.ok:
        raise click.ClickException(_("%(count)s problem(s) found; %(summary)s.", count=len(report.problems),
                                     summary=summary))
    click.echo(_("Evidence store intact: %(summary)s.", summary=summary))


@evidence_commands.command("sweep", help=_l(
    "Remove stored blobs that no evidence item refers to, and uploads a crash left behind."))
@option("--grace-minutes", default=60, show_default=True, type=click.IntRange(0, 10_000),
        help=_l("Leave blobs and uploads younger than this alone (an upload may be committing)."))
@option("--dry-run", is_flag=True, help=_l("Only list what would be removed."))
@with_appcontext
def evidence_sweep_command(grace_minutes: int, dry_run: bool) -> None:
    from casefile.evidence import integrity, services

    report = integrity.sweep(services.store(), grace_minutes * 60, dry_run=dry_run)
    if not dry_run:
        audit.record(None, "evidence.sweep", object_type="evidence_store",
                     details={"orphans": len(report.orphans), "stale_uploads": report.stale_uploads,
                              "render_folders": report.render_folders})
        db.session.commit()
    counts = {"blobs": len(report.orphans), "uploads": report.stale_uploads, "folders": report.render_folders}
    if dry_run:
        click.echo(_("Would remove %(blobs)s unreferenced blob(s) and %(uploads)s stale upload(s).", **counts))
    else:
        click.echo(_("Removed %(blobs)s unreferenced blob(s) and %(uploads)s stale upload(s).", **counts))
    if report.render_folders and dry_run:
        click.echo(_("Would remove %(folders)s packet render folder(s) that a stopped build left.", **counts))
    elif report.render_folders:
        click.echo(_("Removed %(folders)s packet render folder(s) that a stopped build left.", **counts))


@evidence_commands.command("purge", help=_l(
    "Destroy one item's stored bytes for good. The item's record and hash stay in the log."))
@option("--id", "item_id", required=True, type=int, help=_l("The evidence item's number."))
@option("--reason", required=True, help=_l("Why the bytes must be destroyed (kept in the trail)."))
@option("--operator", default=lambda: getpass.getuser(), show_default="the system user",
        help=_l("Who runs this, as the trail records it."))
@option("--yes", is_flag=True, help=_l("Do not ask for confirmation."))
@with_appcontext
def evidence_purge_command(item_id: int, reason: str, operator: str, yes: bool) -> None:
    from casefile.evidence import services

    if not yes:
        click.confirm(_("Destroy the bytes of evidence item %(id)s? This cannot be undone", id=item_id), abort=True)
    label = f"operator {operator}"[:100]
    try:
        result = services.purge(item_id, reason, label)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    destroyed = services.destroy_blob(result)
    if result.shared:
        click.echo(_("Evidence item %(id)s purged; its bytes are kept because %(count)s other item(s) hold the "
                     "same file.", id=item_id, count=result.shared))
    elif destroyed:
        click.echo(_("Evidence item %(id)s purged: its bytes are destroyed.", id=item_id))
    elif result.address is not None:
        click.echo(_("Evidence item %(id)s purged; its bytes are kept because a packet or receipt holds the same "
                     "file.", id=item_id))
    else:
        click.echo(_("Evidence item %(id)s purged; it had no stored bytes.", id=item_id))


@main.group("packets", help=_l("Build petition packets."))
def packet_commands() -> None:
    pass


@packet_commands.command("build", help=_l(
    "Build a packet with every case the account may see (or the filtered ones) that may go to RECIPIENT."))
@option("--recipient", required=True, help=_l("kz-mfa, prc-embassy, kz-parliament, un-wgeid, un-wgad, ohchr, ..."))
@option("--as", "username", required=True, help=_l("The coordinator account the packet is built for."))
@option("--out", "out_path", required=True, type=click.Path(dir_okay=False, writable=True),
        help=_l("Where to write the PDF."))
@option("--lang", "language", type=click.Choice(["kk", "ru", "en", "zh"]),
        help=_l("The packet's language (default: the recipient's first)."))
@option("--status", "statuses", multiple=True, help=_l("Only cases with this status (repeatable)."))
@option("--prefecture", default="", help=_l("Only cases from this prefecture (administrative code)."))
@option("--case", "references", multiple=True, help=_l("Only this case (repeatable), e.g. KZ-2025-00042."))
@option("--min-verification", default=1, show_default=True, type=click.IntRange(0, 4),
        help=_l("Leave out cases verified below this level."))
@option("--organisation", default=None, help=_l("Default: CASEFILE_ORGANISATION_NAME."))
@option("--contact", default=None, help=_l("Default: CASEFILE_ORGANISATION_CONTACT."))
@option("--subject", default=None, help=_l("Default: a standard subject in the packet's language."))
@option("--outgoing-reference", default="", help=_l("Default: the packet's reference."))
@with_appcontext
def packets_build_command(recipient: str, username: str, out_path: str, language: str | None,
                          statuses: tuple[str, ...], prefecture: str, references: tuple[str, ...],
                          min_verification: int, organisation: str | None, contact: str | None,
                          subject: str | None, outgoing_reference: str) -> None:
    from flask import current_app

    from casefile.auth.services import user_by_username
    from casefile.packets import services

    settings = current_app.config["CASEFILE_SETTINGS"]
    actor = user_by_username(username)
    if actor is None or not actor.active:
        raise click.ClickException(_("No active account %(username)s.", username=username))
    try:
        target = services.recipient_by_code(recipient)
        language = language or target.languages[0]
        criteria = services.Criteria(references=[r.upper() for r in references], statuses=list(statuses),
                                     prefecture=prefecture, min_verification=min_verification)
        selection = services.select_cases(actor, target, criteria)
        letter = services.Letter(
            language=language, organisation=organisation if organisation is not None else settings.organisation_name,
            contact=contact if contact is not None else settings.organisation_contact,
            outgoing_reference=outgoing_reference,
            subject=subject if subject is not None else services.DEFAULT_SUBJECT[language],
            text=services.default_letter(selection, target, language), requests=list(services.REQUESTS),
            legal_basis=services.default_legal_basis(selection, target))
        # Packets the web app would build as a job get a bar: selected, rendered and stored.
        bar = _TerminalProgress(len(selection.included) > current_app.config["CASEFILE_PACKET_JOB_CASES"], 3,
                                _("Building a packet of %(count)s cases", count=len(selection.included)))
        bar(1)
        try:
            packet = services.build_packet(actor, target, criteria, letter, selection)
            bar(3)
        finally:
            bar.close()
        pdf = b"".join(services.open_pdf(actor, packet))
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        field = f" ({error.field})" if error.field else ""
        raise click.ClickException(f"{error}{field}") from error
    with open(out_path, "wb") as out:
        out.write(pdf)
    left = ", ".join(f"{count} {reason.replace('_', ' ')}" for reason, count in packet.left_out.items())
    built = {"reference": packet.reference, "count": packet.case_count, "recipient": target.code,
             "language": language, "left": left, "path": out_path, "sha256": packet.pdf_sha256}
    if left:
        click.echo(_("Packet %(reference)s: %(count)s cases to %(recipient)s in %(language)s; left out: %(left)s. "
                     "Written to %(path)s (SHA-256 %(sha256)s).", **built))
    else:
        click.echo(_("Packet %(reference)s: %(count)s cases to %(recipient)s in %(language)s. Written to %(path)s "
                     "(SHA-256 %(sha256)s).", **built))


@main.command("duplicates", help=_l(
    "Print pairs of recorded people who may be one person, with their score and the reasons.\n\n"
    "Merged records and pairs marked \"not the same person\" are left out."))
@option("--min-score", default=None, type=click.FloatRange(0, 1),
        help=_l("Only pairs scoring at least this (default: the matcher's threshold)."))
@option("--json", "as_json", is_flag=True, help=_l("One JSON document, for scripts."))
@option("--rebuild-keys", is_flag=True, help=_l("First recompute every person's blocking keys (after the matcher "
                                                      "changed)."))
@option("--queue", is_flag=True, help=_l("Put every pair found into the coordinators' review queue."))
@with_appcontext
def duplicates_command(min_score: float | None, as_json: bool, rebuild_keys: bool, queue: bool) -> None:
    import json

    from casefile.matching import index
    from casefile.matching.score import DEFAULT_THRESHOLD
    from casefile.matching.services import queue_recorded, recorded_duplicates

    if rebuild_keys:
        people, keys = index.rebuild_all()
        audit.record(None, "person.keys.rebuild", object_type="persons", details={"people": people, "keys": keys})
        db.session.commit()
        click.echo(_("Blocking keys rebuilt: %(keys)s keys of %(people)s people.", keys=keys, people=people),
                   err=as_json)
    candidates = recorded_duplicates(DEFAULT_THRESHOLD if min_score is None else min_score)
    queued = queue_recorded(candidates) if queue else 0
    details = {"pairs": len(candidates), **({"queued": queued} if queue else {})}
    audit.record(None, "person.duplicates", object_type="persons", details=details)
    db.session.commit()
    if as_json:
        click.echo(json.dumps([candidate.__dict__ for candidate in candidates], ensure_ascii=False, indent=2))
        if queue:
            click.echo(_("%(count)s pair(s) added to the review queue.", count=queued), err=True)
        return
    for candidate in candidates:
        click.echo(_("%(score)s  person %(first_id)s %(first_name)s [%(first_cases)s]  ~  "
                     "person %(second_id)s %(second_name)s [%(second_cases)s]", score=f"{candidate.score:.3f}",
                     first_id=candidate.first_id, first_name=candidate.first_name,
                     first_cases=_cases_with_sources(candidate.first_cases, candidate.first_source_refs),
                     second_id=candidate.second_id, second_name=candidate.second_name,
                     second_cases=_cases_with_sources(candidate.second_cases, candidate.second_source_refs)))
        for reason in candidate.reasons:
            click.echo(f"       {reason}")
    click.echo(_("%(count)s candidate pair(s).", count=len(candidates)))
    if queue:
        click.echo(_("%(count)s pair(s) added to the review queue.", count=queued))


def _cases_with_sources(references: tuple[str, ...], sources: tuple[str, ...]) -> str:
    """``KZ-2025-00042 (source 17), KZ-2025-00043``: each case with the row it was imported from."""
    padded = tuple(sources) + ("",) * (len(references) - len(sources))
    return ", ".join(_("%(reference)s (source %(source)s)", reference=ref, source=source) if source else ref
                     for ref, source in zip(references, padded))


@main.command("import", help=_l(
    "Import the cases of a CSV or XLSX file: every row, or none when any row has a problem.\n\n"
    "Rows whose PRC ID or IIN is already recorded are linked to that person; other likely duplicates are "
    "imported as new people and put into the coordinators' review queue."))
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@option("--team", "team_name", required=True, help=_l("The team the cases are filed under."))
@option("--as", "username", required=True, help=_l("The advocate or coordinator account that imports."))
@option("--mapping", "mapping_path", type=click.Path(exists=True, dir_okay=False),
        help=_l('JSON {"header in the file": "column", ...}; other headers are mapped by their known names.'))
@option("--dry-run", is_flag=True, help=_l("Check every row and look for duplicates; import nothing."))
@with_appcontext
def import_command(path: str, team_name: str, username: str, mapping_path: str | None, dry_run: bool) -> None:
    from pathlib import Path

    from casefile.auth.services import user_by_username
    from casefile.imports import services

    actor = user_by_username(username)
    if actor is None or not actor.active:
        raise click.ClickException(_("No active account %(username)s.", username=username))
    source = Path(path)
    if source.stat().st_size > services.max_bytes():
        raise click.ClickException(_("%(file)s is larger than CASEFILE_IMPORT_MAX_MB (%(mb)s MB): nothing was "
                                     "imported.", file=source.name, mb=services.max_bytes() // 2**20))
    data = source.read_bytes()
    bar = _TerminalProgress(False, 0, _("Importing %(file)s", file=source.name))
    try:
        team = services.team_named(actor, team_name)
        table = services.read(data, source.name)
        mapping = (services.load_mapping_file(Path(mapping_path).read_text("utf-8"), table) if mapping_path
                   else services.proposed_mapping(table))
        bar.shown = len(table.rows) > _import_job_rows()  # a bar for the files the web app imports as jobs
        result = services.review(actor, table, mapping, source.name, progress=bar)
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(_("%(error)s Nothing was imported.", error=error)) from error
    finally:
        bar.close()
    for note in table.notes:
        click.echo(_("note: %(note)s", note=note))
    ignored = _("(ignored)")
    click.echo(_("columns: %(columns)s", columns=", ".join(
        f"{header} -> {column or ignored}" for header, column in result.mapping.items())))
    for problem in result.warnings:
        click.echo(_("row %(row)s, %(column)s: %(message)s", row=problem.row,
                     column=problem.header or problem.column, message=problem.message))
    for problem in result.errors:
        click.echo(_("row %(row)s, %(column)s: %(message)s", row=problem.row,
                     column=problem.header or problem.column or _("row"), message=problem.message), err=True)
    if result.errors:
        db.session.rollback()
        raise click.ClickException(_("%(count)s problem(s) in %(file)s: nothing was imported.",
                                     count=len(result.errors), file=source.name))
    for row in result.flagged:
        decision = result.defaults.get(row.number, "new")
        if decision != "new":
            click.echo(_("row %(row)s %(name)s: linked to %(decision)s", row=row.number, name=row.primary_name,
                         decision=decision))
        else:
            click.echo(_("row %(row)s %(name)s: new person", row=row.number, name=row.primary_name))
        for found in result.existing.get(row.number, []):
            cases = ", ".join(case.reference + (f" ({case.source_ref})" if case.source_ref else "")
                              for case in found.cases)
            click.echo(_("    ~ person %(id)s %(name)s [%(cases)s] %(score)s: %(reasons)s", id=found.person_id,
                         name=found.name, cases=cases, score=f"{found.score:.3f}", reasons="; ".join(found.reasons)))
        for other, score, reasons in result.within.get(row.number, []):
            click.echo(_("    ~ row %(row)s %(score)s: %(reasons)s", row=other, score=f"{score:.3f}",
                         reasons="; ".join(reasons)))
    if dry_run:
        db.session.rollback()
        linked = sum(1 for choice in result.defaults.values() if choice != "new")
        click.echo(_("Dry run: %(rows)s rows would become %(cases)s cases (%(linked)s linked to a recorded person or "
                     "an earlier row). Nothing was imported.", rows=len(result.rows), cases=len(result.rows),
                     linked=linked))
        return
    try:
        batch = services.stage_bytes(actor, team.id, source.name, data, table)
        report = services.commit(actor, batch, result, result.defaults, progress=bar)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(_("%(error)s Nothing was imported.", error=error)) from error
    finally:
        bar.close()
    click.echo(_("Import %(label)s: %(cases)s cases (%(first)s to %(last)s), %(people)s new people, %(linked)s rows "
                 "linked to recorded people, %(reporters)s reporters, %(consents)s consents; %(queued)s pair(s) "
                 "queued for review.", label=batch.label, cases=report.cases, first=report.references[0],
                 last=report.references[-1], people=report.people, linked=len(report.linked),
                 reporters=report.reporters, consents=report.consents, queued=report.queued))


class _TerminalProgress:
    """A job's ``progress(done, total, message)`` drawn as a bar on standard error (when ``shown``).

    ``close`` ends the bar before other output; a later call starts a new one."""

    def __init__(self, shown: bool, total: int, label: str) -> None:
        self.shown, self.total, self.label = shown, total, label
        self._bar: Any = None

    def __call__(self, done: int, total: int | None = None, message: str | None = None) -> None:
        if not self.shown:
            return
        if total:
            self.total = total
        if self._bar is None:
            self._bar = click.progressbar(length=max(self.total, 1), label=self.label, file=sys.stderr)
            self._bar.__enter__()
        step = min(done, self.total) - self._bar.pos
        if step > 0:
            self._bar.update(step)

    def advance(self, count: int = 1) -> None:
        self((self._bar.pos if self._bar is not None else 0) + count)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None


def _import_job_rows() -> int:
    from flask import current_app

    return int(current_app.config["CASEFILE_IMPORT_JOB_ROWS"])


@main.command("worker", help=_l(
    "Run background jobs (large imports and packets, evidence verify) from the Redis queue.\n\n"
    "Needs CASEFILE_REDIS_URL; without it the app runs its jobs in a thread of its own."))
@option("--burst", is_flag=True, help=_l("Run the jobs waiting now, then stop."))
@with_appcontext
def worker_command(burst: bool) -> None:
    from flask import current_app
    from rq import SimpleWorker

    from casefile.jobs import runner
    from casefile.jobs import services as job_services

    url = current_app.config.get(job_services.REDIS_URL)
    if not url:
        raise click.ClickException(_("CASEFILE_REDIS_URL is not set: without Redis the app runs its jobs itself."))
    queue = runner.queue(url)
    reaped = runner.reap_abandoned(url)
    if reaped:
        click.echo(_("%(count)s job(s) whose worker stopped mid-way marked failed (nothing of them was kept).",
                     count=reaped), err=True)
    # Jobs run in this process, inside its app context (each in an app context of its own).
    worker = SimpleWorker([queue], connection=queue.connection)
    if burst:
        click.echo(_("Worker for queue %(queue)s (until the queue is empty).", queue=queue.name), err=True)
    else:
        click.echo(_("Worker for queue %(queue)s.", queue=queue.name), err=True)
    worker.work(burst=burst, logging_level="WARNING")


@main.command("admin-hint", hidden=True)
@with_appcontext
def admin_hint_command() -> None:
    """Print how to create the first admin when there is none (used by make run)."""
    from casefile.auth.services import count_admins

    if count_admins() == 0:
        click.echo(_("No admin account exists yet. Create one with:"))
        click.echo("  .venv/bin/casefile users create --username admin --role admin")


from casefile.backup.cli import register as _register_backup  # noqa: E402

_register_backup(main)  # backup, restore, keys rotate


if __name__ == "__main__":  # pragma: no cover
    main()
