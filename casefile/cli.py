"""The ``casefile`` command line: run, db, users, demo, audit, evidence, packets, import, duplicates."""

from __future__ import annotations

import getpass
import sys

import click
from flask import Flask
from flask.cli import FlaskGroup, with_appcontext

from casefile import audit
from casefile.config import ConfigError
from casefile.core.errors import DomainError
from casefile.extensions import db


def _create_app() -> Flask:
    from casefile.app import create_app

    try:
        return create_app()
    except ConfigError as error:
        raise click.ClickException(str(error)) from error


@click.group(cls=FlaskGroup, create_app=_create_app, add_version_option=False,
             help="casefile: case records, evidence and petition packets.")
def main() -> None:
    audit.set_client("cli")


@main.group()
def users() -> None:
    """Manage accounts."""


@users.command("create")
@click.option("--username", required=True, help="Login name: lower-case letters, digits, . _ -")
@click.option("--role", required=True, type=click.Choice(["advocate", "coordinator", "auditor", "admin"]))
@click.option("--team", "teams", multiple=True, help="A team (repeatable); created when it does not exist.")
@click.option("--display-name", default="", help="The name shown in the interface.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
def create_user_command(username: str, role: str, teams: tuple[str, ...], display_name: str,
                        password_stdin: bool) -> None:
    """Create an account."""
    from casefile.auth import services

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass("Password: ")
        if getpass.getpass("Repeat: ") != password:
            raise click.ClickException("The passwords differ.")
    try:
        user = services.create_user(None, username=username, role=role, password=password, teams=teams,
                                    display_name=display_name)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    click.echo(f"Created {user.role} {user.username}" + (f" in {', '.join(teams)}" if teams else "") + ".")


@main.command("demo")
@click.option("--cases", "case_count", default=200, show_default=True, type=click.IntRange(1, 5000))
@click.option("--seed", default=2025, show_default=True, help="Random seed, for a repeatable organisation.")
@with_appcontext
def demo_command(case_count: int, seed: int) -> None:
    """Fill an empty instance with a demo organisation (fictional people)."""
    from casefile.demo.generator import DemoRefused, build_demo

    try:
        accounts = build_demo(case_count=case_count, seed=seed)
        db.session.commit()
    except DemoRefused as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    click.echo(f"Demo organisation created with {case_count} fictional cases.")
    click.echo("Accounts (passwords are shown once, write them down):")
    for username, role, password in accounts:
        click.echo(f"  {role:<12} {username:<14} {password}")


@main.group("audit")
def audit_commands() -> None:
    """Check the audit trail."""


@audit_commands.command("verify")
@with_appcontext
def audit_verify_command() -> None:
    """Walk the audit chain: exit 0 when it is intact, 1 naming the first broken event."""
    from casefile.audit.verify import verify_chain

    report = verify_chain(db.session)
    # Recorded after the walk, whatever it found: the check itself is part of the trail.
    audit.record(None, "audit.verify", object_type="audit_chain", outcome="success" if report.ok else "failure",
                 details={"ok": report.ok, "count": report.count, "first_broken_seq": report.first_broken_seq,
                          "kind": report.kind, "head_hash": report.head_hash})
    db.session.commit()
    if not report.ok:
        raise click.ClickException(report.message)
    click.echo(f"Audit chain intact: {report.count} events, head hash {report.head_hash}.")


@audit_commands.command("head")
@with_appcontext
def audit_head_command() -> None:
    """Print the head hash and the event count, to write down somewhere outside this server."""
    from casefile.audit.verify import chain_head

    count, _head_seq, head_hash = chain_head(db.session)
    db.session.rollback()
    click.echo(f"{count} events, head hash {head_hash}")


@main.group("evidence")
def evidence_commands() -> None:
    """Check, clean and (as an operator) purge the evidence store."""


@evidence_commands.command("verify")
@with_appcontext
def evidence_verify_command() -> None:
    """Decrypt and re-hash every stored file: exit 1 naming every missing, altered or mismatched one."""
    from casefile.evidence import integrity, services

    store = services.store()
    expected = len(integrity.stored_blobs())
    with click.progressbar(length=expected, label="Verifying evidence", file=sys.stderr) as bar:
        report = integrity.verify_store(store, progress=bar.update)
    audit.record(None, "evidence.verify", object_type="evidence_store", outcome="success" if report.ok else "failure",
                 details={"blobs": report.blobs, "items": report.items, "problems": len(report.problems),
                          "problem_items": sorted(i for p in report.problems for i in p.item_ids)})
    db.session.commit()
    for problem in report.problems:
        click.echo(problem.describe(), err=True)
    rate = report.bytes / 2**20 / report.seconds if report.seconds else 0.0
    others = f" and {report.others} packet or receipt file(s)" if report.others else ""
    summary = (f"{report.items} items{others} in {report.blobs} blobs checked, {report.bytes:,} bytes in "
               f"{report.seconds:.1f} s ({rate:.0f} MiB/s)")
    if not report.ok:
        raise click.ClickException(f"{len(report.problems)} problem(s) found; {summary}.")
    click.echo(f"Evidence store intact: {summary}.")


@evidence_commands.command("sweep")
@click.option("--grace-minutes", default=60, show_default=True, type=click.IntRange(0, 10_000),
              help="Leave blobs and uploads younger than this alone (an upload may be committing).")
@click.option("--dry-run", is_flag=True, help="Only list what would be removed.")
@with_appcontext
def evidence_sweep_command(grace_minutes: int, dry_run: bool) -> None:
    """Remove stored blobs that no evidence item refers to, and uploads a crash left behind."""
    from casefile.evidence import integrity, services

    report = integrity.sweep(services.store(), grace_minutes * 60, dry_run=dry_run)
    if not dry_run:
        audit.record(None, "evidence.sweep", object_type="evidence_store",
                     details={"orphans": len(report.orphans), "stale_uploads": report.stale_uploads})
        db.session.commit()
    verb = "Would remove" if dry_run else "Removed"
    click.echo(f"{verb} {len(report.orphans)} unreferenced blob(s) and {report.stale_uploads} stale upload(s).")


@evidence_commands.command("purge")
@click.option("--id", "item_id", required=True, type=int, help="The evidence item's number.")
@click.option("--reason", required=True, help="Why the bytes must be destroyed (kept in the trail).")
@click.option("--operator", default=lambda: getpass.getuser(), show_default="the system user",
              help="Who runs this, as the trail records it.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@with_appcontext
def evidence_purge_command(item_id: int, reason: str, operator: str, yes: bool) -> None:
    """Destroy one item's stored bytes for good. The item's record and hash stay in the log."""
    from casefile.evidence import services

    if not yes:
        click.confirm(f"Destroy the bytes of evidence item {item_id}? This cannot be undone", abort=True)
    label = f"operator {operator}"[:100]
    try:
        result = services.purge(item_id, reason, label)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    destroyed = services.destroy_blob(result)
    if result.shared:
        click.echo(f"Evidence item {item_id} purged; its bytes are kept because {result.shared} other item(s) "
                   "hold the same file.")
    elif destroyed:
        click.echo(f"Evidence item {item_id} purged: its bytes are destroyed.")
    elif result.address is not None:
        click.echo(f"Evidence item {item_id} purged; its bytes are kept because a packet or receipt holds "
                   "the same file.")
    else:
        click.echo(f"Evidence item {item_id} purged; it had no stored bytes.")


@main.group("packets")
def packet_commands() -> None:
    """Build petition packets."""


@packet_commands.command("build")
@click.option("--recipient", required=True, help="kz-mfa, prc-embassy, kz-parliament, un-wgeid, un-wgad, ohchr, ...")
@click.option("--as", "username", required=True, help="The coordinator account the packet is built for.")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False, writable=True),
              help="Where to write the PDF.")
@click.option("--lang", "language", type=click.Choice(["kk", "ru", "en", "zh"]),
              help="The packet's language (default: the recipient's first).")
@click.option("--status", "statuses", multiple=True, help="Only cases with this status (repeatable).")
@click.option("--prefecture", default="", help="Only cases from this prefecture (administrative code).")
@click.option("--case", "references", multiple=True, help="Only this case (repeatable), e.g. KZ-2025-00042.")
@click.option("--min-verification", default=1, show_default=True, type=click.IntRange(0, 4),
              help="Leave out cases verified below this level.")
@click.option("--organisation", default=None, help="Default: CASEFILE_ORGANISATION_NAME.")
@click.option("--contact", default=None, help="Default: CASEFILE_ORGANISATION_CONTACT.")
@click.option("--subject", default=None, help="Default: a standard subject in the packet's language.")
@click.option("--outgoing-reference", default="", help="Default: the packet's reference.")
@with_appcontext
def packets_build_command(recipient: str, username: str, out_path: str, language: str | None,
                          statuses: tuple[str, ...], prefecture: str, references: tuple[str, ...],
                          min_verification: int, organisation: str | None, contact: str | None,
                          subject: str | None, outgoing_reference: str) -> None:
    """Build a packet with every case the account may see (or the filtered ones) that may go to RECIPIENT."""
    from flask import current_app

    from casefile.auth.services import user_by_username
    from casefile.packets import services

    settings = current_app.config["CASEFILE_SETTINGS"]
    actor = user_by_username(username)
    if actor is None or not actor.active:
        raise click.ClickException(f"No active account {username}.")
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
        packet = services.build_packet(actor, target, criteria, letter, selection)
        pdf = b"".join(services.open_pdf(actor, packet))
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        field = f" ({error.field})" if error.field else ""
        raise click.ClickException(f"{error}{field}") from error
    with open(out_path, "wb") as out:
        out.write(pdf)
    left = ", ".join(f"{count} {reason.replace('_', ' ')}" for reason, count in packet.left_out.items())
    click.echo(f"Packet {packet.reference}: {packet.case_count} cases to {target.code} in {language}"
               + (f"; left out: {left}" if left else "") + f". Written to {out_path} (SHA-256 {packet.pdf_sha256}).")


@main.command("duplicates")
@click.option("--min-score", default=None, type=click.FloatRange(0, 1),
              help="Only pairs scoring at least this (default: the matcher's threshold).")
@click.option("--json", "as_json", is_flag=True, help="One JSON document, for scripts.")
@click.option("--rebuild-keys", is_flag=True, help="First recompute every person's blocking keys (after the matcher "
                                                   "changed).")
@click.option("--queue", is_flag=True, help="Put every pair found into the coordinators' review queue.")
@with_appcontext
def duplicates_command(min_score: float | None, as_json: bool, rebuild_keys: bool, queue: bool) -> None:
    """Print pairs of recorded people who may be one person, with their score and the reasons.

    Merged records and pairs marked "not the same person" are left out.
    """
    import json

    from casefile.matching import index
    from casefile.matching.score import DEFAULT_THRESHOLD
    from casefile.matching.services import queue_recorded, recorded_duplicates

    if rebuild_keys:
        people, keys = index.rebuild_all()
        audit.record(None, "person.keys.rebuild", object_type="persons", details={"people": people, "keys": keys})
        db.session.commit()
        click.echo(f"Blocking keys rebuilt: {keys} keys of {people} people.", err=as_json)
    candidates = recorded_duplicates(DEFAULT_THRESHOLD if min_score is None else min_score)
    queued = queue_recorded(candidates) if queue else 0
    details = {"pairs": len(candidates), **({"queued": queued} if queue else {})}
    audit.record(None, "person.duplicates", object_type="persons", details=details)
    db.session.commit()
    if as_json:
        click.echo(json.dumps([candidate.__dict__ for candidate in candidates], ensure_ascii=False, indent=2))
        if queue:
            click.echo(f"{queued} pair(s) added to the review queue.", err=True)
        return
    for candidate in candidates:
        click.echo(f"{candidate.score:.3f}  person {candidate.first_id} {candidate.first_name} "
                   f"[{_cases_with_sources(candidate.first_cases, candidate.first_source_refs)}]  ~  "
                   f"person {candidate.second_id} {candidate.second_name} "
                   f"[{_cases_with_sources(candidate.second_cases, candidate.second_source_refs)}]")
        for reason in candidate.reasons:
            click.echo(f"       {reason}")
    click.echo(f"{len(candidates)} candidate pair(s).")
    if queue:
        click.echo(f"{queued} pair(s) added to the review queue.")


def _cases_with_sources(references: tuple[str, ...], sources: tuple[str, ...]) -> str:
    """``KZ-2025-00042 (source 17), KZ-2025-00043``: each case with the row it was imported from."""
    padded = tuple(sources) + ("",) * (len(references) - len(sources))
    return ", ".join(f"{ref} (source {source})" if source else ref for ref, source in zip(references, padded))


@main.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--team", "team_name", required=True, help="The team the cases are filed under.")
@click.option("--as", "username", required=True, help="The advocate or coordinator account that imports.")
@click.option("--mapping", "mapping_path", type=click.Path(exists=True, dir_okay=False),
              help='JSON {"header in the file": "column", ...}; other headers are mapped by their known names.')
@click.option("--dry-run", is_flag=True, help="Check every row and look for duplicates; import nothing.")
@with_appcontext
def import_command(path: str, team_name: str, username: str, mapping_path: str | None, dry_run: bool) -> None:
    """Import the cases of a CSV or XLSX file: every row, or none when any row has a problem.

    Rows whose PRC ID or IIN is already recorded are linked to that person; other likely
    duplicates are imported as new people and put into the coordinators' review queue.
    """
    from pathlib import Path

    from casefile.auth.services import user_by_username
    from casefile.imports import services

    actor = user_by_username(username)
    if actor is None or not actor.active:
        raise click.ClickException(f"No active account {username}.")
    source = Path(path)
    if source.stat().st_size > services.max_bytes():
        raise click.ClickException(f"{source.name} is larger than CASEFILE_IMPORT_MAX_MB "
                                   f"({services.max_bytes() // 2**20} MB): nothing was imported.")
    data = source.read_bytes()
    try:
        team = services.team_named(actor, team_name)
        table = services.read(data, source.name)
        mapping = (services.load_mapping_file(Path(mapping_path).read_text("utf-8"), table) if mapping_path
                   else services.proposed_mapping(table))
        result = services.review(actor, table, mapping, source.name)
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(f"{error} Nothing was imported.") from error
    for note in table.notes:
        click.echo(f"note: {note}")
    click.echo("columns: " + ", ".join(f"{header} -> {column or '(ignored)'}"
                                       for header, column in result.mapping.items()))
    for problem in result.warnings:
        click.echo(f"row {problem.row}, {problem.header or problem.column}: {problem.message}")
    for problem in result.errors:
        click.echo(f"row {problem.row}, {problem.header or problem.column or 'row'}: {problem.message}", err=True)
    if result.errors:
        db.session.rollback()
        raise click.ClickException(f"{len(result.errors)} problem(s) in {source.name}: nothing was imported.")
    for row in result.flagged:
        decision = result.defaults.get(row.number, "new")
        click.echo(f"row {row.number} {row.primary_name}: "
                   + (f"linked to {decision}" if decision != "new" else "new person"))
        for found in result.existing.get(row.number, []):
            cases = ", ".join(case.reference + (f" ({case.source_ref})" if case.source_ref else "")
                              for case in found.cases)
            click.echo(f"    ~ person {found.person_id} {found.name} [{cases}] {found.score:.3f}: "
                       f"{'; '.join(found.reasons)}")
        for other, score, reasons in result.within.get(row.number, []):
            click.echo(f"    ~ row {other} {score:.3f}: {'; '.join(reasons)}")
    if dry_run:
        db.session.rollback()
        linked = sum(1 for choice in result.defaults.values() if choice != "new")
        click.echo(f"Dry run: {len(result.rows)} rows would become {len(result.rows)} cases "
                   f"({linked} linked to a recorded person or an earlier row). Nothing was imported.")
        return
    try:
        batch = services.stage_bytes(actor, team.id, source.name, data, table)
        report = services.commit(actor, batch, result, result.defaults)
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(f"{error} Nothing was imported.") from error
    click.echo(f"Import {batch.label}: {report.cases} cases ({report.references[0]} to {report.references[-1]}), "
               f"{report.people} new people, {len(report.linked)} rows linked to recorded people, "
               f"{report.reporters} reporters, {report.consents} consents; {report.queued} pair(s) queued for review.")


@main.command("admin-hint", hidden=True)
@with_appcontext
def admin_hint_command() -> None:
    """Print how to create the first admin when there is none (used by make run)."""
    from casefile.auth.services import count_admins

    if count_admins() == 0:
        click.echo("No admin account exists yet. Create one with:")
        click.echo("  .venv/bin/casefile users create --username admin --role admin")


if __name__ == "__main__":  # pragma: no cover
    main()
