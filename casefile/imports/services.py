"""Import a spreadsheet of cases: stage the file, map its columns, check every row, review the
people it may already hold, and commit every row or none.

The file is kept sealed in the evidence store from upload on (never as plaintext on disk) and
stays there after the commit as the source the cases came from. Each step reads it again.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, func, insert, select

from casefile import access, audit
from casefile.auth.models import Role, Team, User
from casefile.cases.models import Case, CaseStatusEvent, Consent, Reporter
from casefile.cases.services import assignable_teams, next_references, seal_contact_for
from casefile.core.errors import InvalidInput, NotAllowed
from casefile.db import utcnow
from casefile.evidence import services as store_services
from casefile.extensions import db
from casefile.imports import columns
from casefile.imports.models import ImportBatch, ImportMapping
from casefile.imports.reading import ImportFileError, Table, read_table
from casefile.imports.rows import ParsedRow, RowProblem, parse_row
from casefile.matching import DEFAULT_THRESHOLD, PersonFacts, prepare
from casefile.matching import index as match_index
from casefile.matching.models import PersonMatchKey
from casefile.people.models import NameToken, Person, PersonName
from casefile.people.names import index_tokens
from casefile.people.services import check_person, prefecture_code

IMPORT_ROLES = (Role.ADVOCATE, Role.COORDINATOR)
PREVIEW_ROWS = 10


class ImportRefused(InvalidInput):
    """The file or a row is wrong: nothing was imported."""


@dataclass
class Review:
    """Everything the review step shows, and what the commit needs."""

    table: Table
    mapping: dict[str, str]
    rows: list[ParsedRow]
    errors: list[RowProblem]
    warnings: list[RowProblem]
    existing: dict[int, list[Any]]  # row number -> recorded people it may be (match_index.Found)
    within: dict[int, list[tuple[int, float, list[str]]]]  # row number -> (earlier row, score, reasons)
    defaults: dict[int, str]  # row number -> proposed decision

    @property
    def flagged(self) -> list[ParsedRow]:
        return [row for row in self.rows if row.number in self.existing or row.number in self.within]

    @property
    def ignored_headers(self) -> list[str]:
        return [header for header, column in self.mapping.items() if not column and header]


@dataclass
class Report:
    cases: int = 0
    people: int = 0
    reporters: int = 0
    consents: int = 0
    linked: list[dict[str, Any]] = field(default_factory=list)  # row, person id, case reference
    references: list[str] = field(default_factory=list)
    queued: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"cases": self.cases, "people": self.people, "reporters": self.reporters, "consents": self.consents,
                "linked": self.linked, "first_reference": self.references[0] if self.references else None,
                "last_reference": self.references[-1] if self.references else None, "queued": self.queued}


def max_bytes() -> int:
    return int(current_app.config["CASEFILE_SETTINGS"].import_max_bytes)


def _require_importer(actor: User) -> None:
    if actor.role not in IMPORT_ROLES or not access.can_create_case(actor):
        raise NotAllowed(_l("Your role does not import cases."))


def _team(actor: User, team_id: int | None) -> Team:
    for team in assignable_teams(actor):
        if team.id == team_id:
            return team
    raise InvalidInput(_l("Choose one of your teams."), field="team_id")


def read(data: bytes, filename: str) -> Table:
    if len(data) > max_bytes():
        raise ImportRefused(_l("The file is %(size)s MB; the limit is %(limit)s MB.",
                               size=round(len(data) / 2**20, 1), limit=max_bytes() // 2**20))
    try:
        return read_table(data, filename)
    except ImportFileError as exc:
        raise ImportRefused(str(exc), field="file") from exc


# --- staging ---------------------------------------------------------------------------------------

def stage(actor: User, team_id: int | None, filename: str, sink: Any) -> ImportBatch:
    """Keep an uploaded file (already sealed in ``sink``) for the next steps, if it reads as a table."""
    _require_importer(actor)
    team = _team(actor, team_id)
    written = sink.finish()
    data = b"".join(sink.open_plaintext())
    filename = store_services.clean_filename(filename)  # metadata only, like an evidence file's name
    table = read(data, filename)
    address = store_services.promote_upload(sink, written.sha256)
    batch = ImportBatch(filename=filename, file_address=address, file_sha256=written.sha256,
                        file_size=written.size, team_id=team.id, created_by_id=actor.id, row_count=len(table.rows))
    db.session.add(batch)
    db.session.flush()
    audit.record(actor, "import.stage", object_type="import", object_id=batch.id,
                 details={"rows": len(table.rows), "sha256": written.sha256, "team_id": team.id})
    return batch


def stage_bytes(actor: User, team_id: int | None, filename: str, data: bytes, table: Table) -> ImportBatch:
    """``stage`` for a file already read (the command line)."""
    _require_importer(actor)
    team = _team(actor, team_id)
    sha256, size, address = store_services.store_bytes(data)
    batch = ImportBatch(filename=store_services.clean_filename(filename), file_address=address, file_sha256=sha256, file_size=size,
                        team_id=team.id, created_by_id=actor.id, row_count=len(table.rows))
    db.session.add(batch)
    db.session.flush()
    audit.record(actor, "import.stage", object_type="import", object_id=batch.id,
                 details={"rows": len(table.rows), "sha256": sha256, "team_id": team.id})
    return batch


def team_named(actor: User, name: str) -> Team:
    for team in assignable_teams(actor):
        if team.name == name:
            return team
    raise InvalidInput(_l("%(user)s cannot file cases under a team named %(team)s.", user=actor.username, team=name))


def get_batch(actor: User, batch_id: int) -> ImportBatch:
    """A batch of the actor's own (imports are private to who uploaded them), or NotAllowed."""
    _require_importer(actor)
    batch = db.session.get(ImportBatch, batch_id)
    if batch is None or batch.created_by_id != actor.id:
        raise NotAllowed(_l("No such import."))
    return batch


def my_batches(actor: User, limit: int = 50) -> list[ImportBatch]:
    return list(db.session.scalars(select(ImportBatch).where(ImportBatch.created_by_id == actor.id)
                                   .order_by(ImportBatch.id.desc()).limit(limit)))


def batch_table(batch: ImportBatch) -> Table:
    if batch.file_address is None:
        raise ImportRefused(_l("The file of this import was discarded."))
    data = b"".join(store_services.stream_bytes(batch.file_address))
    return read(data, batch.filename)


def discard(actor: User, batch: ImportBatch) -> str | None:
    """Drop a staged file. Returns its address: the caller deletes it (``delete_if_unused``) once committed."""
    if batch.state != "staged":
        raise InvalidInput(_l("Only an import that was not committed can be discarded."))
    batch.state = "discarded"
    address, batch.file_address = batch.file_address, None
    audit.record(actor, "import.discard", object_type="import", object_id=batch.id)
    return address


# --- mapping -------------------------------------------------------------------------------------

def samples(table: Table, count: int = 50) -> dict[str, list[str]]:
    return {header: [cells[i] if i < len(cells) else "" for _, cells in table.rows[:count]]
            for i, header in enumerate(table.headers)}


def proposed_mapping(table: Table, saved: ImportMapping | None = None) -> dict[str, str]:
    return columns.auto_mapping(table.headers, saved.columns if saved else None, samples(table))


def check_mapping(table: Table, mapping: dict[str, str]) -> dict[str, str]:
    """The mapping for this file's headers, or ImportRefused naming what is wrong with it."""
    cleaned = {header: mapping.get(header, "") or "" for header in table.headers}
    unknown = sorted({column for column in cleaned.values() if column and column not in columns.CANONICAL})
    if unknown:
        raise ImportRefused(_l("Unknown column %(name)s.", name=", ".join(unknown)), field="mapping")
    seen: dict[str, str] = {}
    for header, column in cleaned.items():
        if column and column in seen:
            raise ImportRefused(_l("%(column)s is mapped from two headers: %(first)s and %(second)s.",
                                   column=column, first=seen[column], second=header), field="mapping")
        if column:
            seen[column] = header
    if not any(column in columns.NAME_COLUMNS for column in cleaned.values()):
        raise ImportRefused(_l("Map at least one name column."), field="mapping")
    return cleaned


def saved_mappings() -> list[ImportMapping]:
    return list(db.session.scalars(select(ImportMapping).order_by(ImportMapping.name)))


def save_mapping(actor: User, name: str, mapping: dict[str, str]) -> ImportMapping:
    _require_importer(actor)
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidInput(_l("Give the mapping a name of at most 100 characters."), field="mapping_name")
    saved = db.session.scalar(select(ImportMapping).where(ImportMapping.name == name))
    if saved is None:
        saved = ImportMapping(name=name, created_by_id=actor.id)
        db.session.add(saved)
    saved.columns = {header: column for header, column in mapping.items() if column}
    db.session.flush()
    audit.record(actor, "import.mapping.save", object_type="import_mapping", object_id=saved.id,
                 details={"columns": sorted(saved.columns.values())})
    return saved


def load_mapping_file(text: str, table: Table) -> dict[str, str]:
    """A mapping given as JSON (``{"header in the file": "canonical column", ...}``) for the CLI."""
    try:
        given = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportRefused(_l("The mapping file is not JSON: %(reason)s", reason=str(exc))) from exc
    if not isinstance(given, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in given.items()):
        raise ImportRefused(_l('The mapping file must be one JSON object: {"header": "column", ...}.'))
    missing = sorted(set(given) - set(table.headers))
    if missing:
        raise ImportRefused(_l("The mapping names headers the file does not have: %(names)s.",
                               names=", ".join(missing)))
    proposed = proposed_mapping(table)
    return {header: given.get(header, proposed.get(header, "")) for header in table.headers}


# --- checking and review -----------------------------------------------------------------------------

def parse_rows(table: Table, mapping: dict[str, str], label: str,
               progress: Callable[..., None] | None = None) -> list[ParsedRow]:
    positions = [(i, column) for i, column in enumerate(table.headers and [mapping.get(h, "") for h in table.headers])
                 if column]
    headers = {column: table.headers[i] for i, column in positions}
    parsed = []
    for number, cells in table.rows:
        values = {column: cells[i] if i < len(cells) else "" for i, column in positions}
        parsed.append(parse_row(number, values, headers, f"{label} row {number}"[:100]))
        if progress is not None and len(parsed) % 100 == 0:
            progress(len(parsed))
    return parsed


def facts_of_row(row: ParsedRow) -> PersonFacts:
    person = row.person
    return PersonFacts(names=[(text, script) for script, _kind, text in person.names], birth_date=person.birth_date,
                       sex=person.sex, prc_id=person.prc_id, iin=person.iin, hometown_code=person.hometown_code)


def check_rows(table: Table, mapping: dict[str, str], label: str,
               progress: Callable[..., None] | None = None) -> list[ParsedRow]:
    """Every row parsed and checked on its own (no database): what ``review`` starts with.

    ``progress(done, total, message)``, when given, follows the rows (a background job's bar:
    checking counts the first half of ``2 × rows``, ``commit`` the second)."""
    mapping = check_mapping(table, mapping)
    if progress is not None:
        progress(0, 2 * len(table.rows), str(_l("Checking the rows")))
    return parse_rows(table, mapping, label, progress)


def review(actor: User, table: Table, mapping: dict[str, str], label: str,
           min_score: float = DEFAULT_THRESHOLD, progress: Callable[..., None] | None = None,
           rows: list[ParsedRow] | None = None) -> Review:
    """Check every row and find, for rows without errors, the recorded people and earlier rows they may be.

    ``rows``: the rows ``check_rows`` gave, when the caller checked them first (outside a transaction)."""
    _require_importer(actor)
    mapping = check_mapping(table, mapping)
    if rows is None:
        rows = check_rows(table, mapping, label, progress)
    if progress is not None:
        progress(len(rows), 2 * len(rows), str(_l("Looking for people already recorded")))
    errors = [problem for row in rows for problem in row.errors]
    warnings = [problem for row in rows for problem in row.warnings]
    _duplicate_source_refs(rows, errors)
    existing: dict[int, list[Any]] = {}
    within: dict[int, list[tuple[int, float, list[str]]]] = {}
    defaults: dict[int, str] = {}
    good = [row for row in rows if not row.errors]
    if good:
        facts = [facts_of_row(row) for row in good]
        for row, found in zip(good, match_index.find_for_new(actor, facts, min_score)):
            if found:
                existing[row.number] = found
        for i, j, match in match_index.find_within(facts, min_score):
            first, second = sorted((good[i], good[j]), key=lambda row: row.number)
            within.setdefault(second.number, []).append((first.number, match.score, list(match.reasons)))
        for entries in within.values():
            entries.sort(key=lambda entry: (-entry[1], entry[0]))
        defaults = _default_decisions(good, existing, within)
    return Review(table=table, mapping=mapping, rows=rows, errors=errors, warnings=warnings, existing=existing,
                  within=within, defaults=defaults)


def _duplicate_source_refs(rows: list[ParsedRow], errors: list[RowProblem]) -> None:
    first_of: dict[str, int] = {}
    for row in rows:
        if row.source_ref in first_of:
            problem = RowProblem(row.number, "source_ref", "", str(_l(
                "The same source reference %(ref)s is on row %(first)s.", ref=row.source_ref,
                first=first_of[row.source_ref])))
            row.errors.append(problem)
            errors.append(problem)
        else:
            first_of[row.source_ref] = row.number


def _default_decisions(rows: list[ParsedRow], existing: dict[int, list[Any]],
                       within: dict[int, list[tuple[int, float, list[str]]]]) -> dict[int, str]:
    """Only an identical PRC ID or IIN links without asking; every other row is a new person
    unless the user links it (and its candidate pairs go to the review queue)."""
    by_number = {row.number: row for row in rows}
    decisions = {}
    for row in rows:
        decision = "new"
        for found in existing.get(row.number, []):
            if found.same_identifier:
                decision = f"person:{found.person_id}"
                break
        else:
            for other, _score, _reasons in within.get(row.number, []):
                if _same_identifier(row, by_number[other]):
                    decision = f"row:{other}"
                    break
        decisions[row.number] = decision
    return decisions


def _same_identifier(a: ParsedRow, b: ParsedRow) -> bool:
    return bool((a.person.prc_id and a.person.prc_id == b.person.prc_id)
                or (a.person.iin and a.person.iin == b.person.iin))


def resolve_decisions(result: Review, posted: dict[int, str]) -> dict[int, str]:
    """The decision of every flagged row: what was posted, checked against what the review offered."""
    decisions = dict(result.defaults)
    for number, choice in posted.items():
        if number not in result.existing and number not in result.within:
            continue
        allowed = {"new"} | {f"person:{found.person_id}" for found in result.existing.get(number, [])} \
            | {f"row:{other}" for other, _score, _reasons in result.within.get(number, [])}
        if choice not in allowed:
            raise ImportRefused(_l("Row %(row)s: choose one of the offered people.", row=number))
        decisions[number] = choice
    return decisions


# --- commit --------------------------------------------------------------------------------------

def commit(actor: User, batch: ImportBatch, result: Review, decisions: dict[int, str],
           progress: Callable[..., None] | None = None) -> Report:
    """Create every row's case (and person and reporter) in the current transaction, or refuse
    the whole file. The caller commits; on any error it rolls back and nothing is imported."""
    _require_importer(actor)
    if result.errors:
        raise ImportRefused(_l("%(count)s problem(s) in the file: nothing was imported.", count=len(result.errors)))
    if batch.state != "staged":
        raise ImportRefused(_l("This import was already committed or discarded."))
    rows = result.rows
    if not rows:
        raise ImportRefused(_l("The file holds no rows."))
    team = _team(actor, batch.team_id)
    report = Report()

    def step(done: int, message: Any) -> None:  # the second half of a job's bar (see ``review``)
        if progress is not None:
            progress(len(rows) + len(rows) * done // 4, 2 * len(rows), str(message))

    step(0, _l("Writing the people"))
    person_of_row = _people(actor, rows, decisions, report)
    step(1, _l("Writing the cases"))
    case_ids = _cases(actor, team, batch, rows, person_of_row, report)
    step(2, _l("Writing the reporters"))
    _reporters(actor, rows, case_ids, report)
    step(3, _l("Queueing likely duplicates for review"))
    report.queued = _queue_unlinked(rows, result, decisions, person_of_row)
    batch.state, batch.committed_at = "committed", utcnow()
    batch.columns = result.mapping
    batch.decisions = {str(number): choice for number, choice in decisions.items() if choice != "new"}
    batch.report = report.as_dict()
    audit.record(actor, "import.commit", object_type="import", object_id=batch.id,
                 details={key: value for key, value in report.as_dict().items() if key != "linked"}
                 | {"linked": len(report.linked), "sha256": batch.file_sha256})
    return report


def _linked_people(actor: User, ids: set[int]) -> dict[int, Person]:
    """The recorded people rows are linked to: each must still be visible to the actor and not merged."""
    found: dict[int, Person] = {}
    ordered = sorted(ids)
    for start in range(0, len(ordered), 500):
        chunk = ordered[start:start + 500]
        for person in db.session.scalars(access.visible_persons(actor).where(Person.id.in_(chunk))):
            if person.merged_into_id is None:
                found[person.id] = person
    missing = sorted(ids - set(found))
    if missing:
        raise ImportRefused(_l("Person %(id)s can no longer be linked (merged, or no longer visible to you).",
                               id=missing[0]))
    return found


def _people(actor: User, rows: list[ParsedRow], decisions: dict[int, str], report: Report) -> dict[int, int]:
    """Row number -> person id: new people inserted in bulk; linked rows get the person's new name forms."""
    linked_ids = {int(choice.split(":")[1]) for choice in decisions.values() if choice.startswith("person:")}
    linked = _linked_people(actor, linked_ids)
    new_rows = [row for row in rows if decisions.get(row.number, "new") == "new"]
    values = []
    names_of = []
    for row in new_rows:
        person_values, names = _checked(row)
        values.append(person_values)
        names_of.append(names)
    person_of_row: dict[int, int] = {}
    if values:
        ids = _insert_with_ids(Person, values)
        for row, person_id in zip(new_rows, ids):
            person_of_row[row.number] = person_id
        _insert_names([(person_id, names) for person_id, names in zip(ids, names_of)])
        keys = []
        for person_id, row in zip(ids, new_rows):
            keys += match_index.key_rows(person_id, prepare(facts_of_row(row)))
        _insert_in_chunks(PersonMatchKey, _unique(keys))
    report.people = len(values)
    added_names: dict[int, list[tuple[str, str, str]]] = {}
    for row in rows:
        choice = decisions.get(row.number, "new")
        if choice.startswith("person:"):
            person = linked[int(choice.split(":")[1])]
            person_of_row[row.number] = person.id
            known = {(name.script, name.text) for name in person.names} | {
                (script, text) for script, _kind, text in added_names.get(person.id, [])}
            fresh = [(script, "alias", text) for script, _kind, text in _checked(row)[1]
                     if (script, text) not in known]
            added_names.setdefault(person.id, []).extend(fresh)
            report.linked.append({"row": row.number, "person_id": person.id})
    for row in rows:  # rows that are an earlier row's person (chains resolve in file order)
        choice = decisions.get(row.number, "new")
        if choice.startswith("row:"):
            person_of_row[row.number] = person_of_row[int(choice.split(":")[1])]
    _add_aliases(actor, linked, added_names)
    return person_of_row


def _checked(row: ParsedRow) -> tuple[dict[str, object], list[tuple[str, str, str]]]:
    return row.checked if row.checked is not None else check_person(row.person)


def _reserve_ids(model: Any, count: int) -> list[int]:
    """``count`` new primary keys for ``model``, so that thousands of rows go in with one
    executemany rather than one INSERT ... RETURNING each. SQLite: this transaction holds the
    database's only write lock, so the next ids are free; PostgreSQL: taken from the sequence."""
    table = model.__table__
    if db.session.get_bind().dialect.name == "postgresql":
        sequence = func.pg_get_serial_sequence(table.name, "id")
        return list(db.session.scalars(select(func.nextval(sequence)).select_from(func.generate_series(1, count))))
    last = db.session.scalar(select(func.max(table.c.id)).execution_options(
        **access.unscoped("import: the next free ids, under the write lock"))) or 0
    return list(range(last + 1, last + count + 1))


def _insert_with_ids(model: Any, rows: list[dict[str, Any]]) -> list[int]:
    ids = _reserve_ids(model, len(rows))
    _insert_in_chunks(model, [{"id": row_id, **row} for row_id, row in zip(ids, rows)])
    return ids


def _unique(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return list({(row["key"], row["person_id"]): row for row in rows}.values())


def _insert_names(people: list[tuple[int, list[tuple[str, str, str]]]], start_positions: dict[int, int] | None = None
                  ) -> None:
    rows = []
    for person_id, names in people:
        offset = (start_positions or {}).get(person_id, 0)
        rows += [{"person_id": person_id, "script": script, "kind": kind, "text": text, "position": offset + i}
                 for i, (script, kind, text) in enumerate(names)]
    if not rows:
        return
    name_ids = _insert_with_ids(PersonName, rows)
    tokens_of: dict[str, list[str]] = {}  # lists repeat names (namesakes, a person on several rows)
    tokens = []
    for name_id, row in zip(name_ids, rows):
        text = row["text"]
        if text not in tokens_of:
            tokens_of[text] = sorted(index_tokens(text))
        tokens += [{"name_id": name_id, "person_id": row["person_id"], "token": token} for token in tokens_of[text]]
    _insert_in_chunks(NameToken, tokens)


def _insert_in_chunks(model: Any, rows: list[dict[str, Any]], size: int = 5000) -> None:
    """Rows inserted in bulk: an executemany on SQLite; COPY on PostgreSQL, where an executemany
    is a statement per row (100,000 round trips for an import's name tokens)."""
    if not rows:
        return
    table = model.__table__
    if db.session.get_bind().dialect.name == "postgresql":
        _copy(table, rows)
        return
    for start in range(0, len(rows), size):
        db.session.execute(insert(table), rows[start:start + size])


def _copy(table: Any, rows: list[dict[str, Any]]) -> None:
    """COPY rows into a PostgreSQL table on the session's connection (so in its transaction),
    each value as SQLAlchemy would bind it; columns the rows leave out get their defaults."""
    connection = db.session.connection()
    keys = list(rows[0])
    defaults = {column.key: column.default.arg for column in table.columns
                if column.key not in keys and column.default is not None and not column.primary_key}
    columns = keys + list(defaults)
    converters = []
    for key in columns:
        kind = table.c[key].type
        converters.append(json.dumps if isinstance(kind, JSON) else kind.bind_processor(connection.dialect))
    filled = [value(None) if callable(value) else value for value in defaults.values()]
    names = ", ".join(table.c[key].name for key in columns)
    with connection.connection.driver_connection.cursor() as cursor, \
            cursor.copy(f"COPY {table.name} ({names}) FROM STDIN") as copy:
        for row in rows:
            values = [row[key] for key in keys] + filled
            copy.write_row([value if convert is None or value is None else convert(value)
                            for convert, value in zip(converters, values)])


def _add_aliases(actor: User, linked: dict[int, Person], added: dict[int, list[tuple[str, str, str]]]) -> None:
    people = [(person_id, names) for person_id, names in added.items() if names]
    if not people:
        return
    positions = {person_id: len(linked[person_id].names) for person_id, _names in people}
    _insert_names(people, positions)
    for person_id, _names in people:
        db.session.expire(linked[person_id], ["names"])
        match_index.refresh_keys(linked[person_id])
    audit.record_many(actor, "person.update", [
        {"object_id": person_id, "details": {"fields": ["person.names"], "source": "import"}}
        for person_id, _names in people], object_type="person")


def _cases(actor: User, team: Team, batch: ImportBatch, rows: list[ParsedRow], person_of_row: dict[int, int],
           report: Report) -> dict[int, tuple[int, str]]:
    now = utcnow()
    references = next_references(now.year, len(rows))
    hometowns = dict(db.session.execute(
        select(Person.id, Person.hometown_code).where(Person.id.in_(set(person_of_row.values())))
        .execution_options(**access.unscoped("import: hometowns of the people just created or linked"))).all()) \
        if len(person_of_row) <= 30_000 else {}
    values = []
    for row, reference in zip(rows, references):
        person_id = person_of_row[row.number]
        hometown = hometowns.get(person_id, row.person.hometown_code)
        values.append({
            "reference": reference, "person_id": person_id, "team_id": team.id,
            "prefecture_code": prefecture_code(hometown), "status": row.status, "verification_level": 0,
            "detained_on": row.detained_on, "detention_facility": row.detention_place, "alleged_reasons": [],
            "narrative": row.narrative, "source_ref": row.source_ref, "restricted": False,
            "created_by_id": actor.id, "created_at": now, "updated_at": now,
        })
    ids = _insert_with_ids(Case, values)
    source = str(_l("Imported from %(file)s", file=batch.filename))[:500]
    _insert_in_chunks(CaseStatusEvent, [
        {"case_id": case_id, "status": row.status, "occurred_on": None, "source": source,
         "recorded_by_id": actor.id, "recorded_at": now} for case_id, row in zip(ids, rows)])
    audit.record_many(actor, "case.create", [
        {"object_id": case_id, "case_ref": reference,
         "details": {"restricted": False, "team_id": team.id, "import": batch.id}}
        for case_id, reference in zip(ids, references)], object_type="case")
    report.cases = len(ids)
    report.references = list(references)
    return {row.number: (case_id, reference) for row, case_id, reference in zip(rows, ids, references)}


def _reporters(actor: User, rows: list[ParsedRow], case_ids: dict[int, tuple[int, str]], report: Report) -> None:
    with_reporter = [row for row in rows if row.reporter is not None]
    if not with_reporter:
        return
    now = utcnow()
    values = [{"case_id": case_ids[row.number][0], "full_name": row.reporter.full_name,
               "relationship_kind": row.reporter.relationship_kind,
               "relationship_detail": row.reporter.relationship_detail, "created_by_id": actor.id,
               "created_at": now} for row in with_reporter]
    ids = _reserve_ids(Reporter, len(values))
    for reporter_id, value, row in zip(ids, values, with_reporter):  # sealed under the reporter's own id
        value["id"] = reporter_id
        value["contact_sealed"] = seal_contact_for(reporter_id, row.reporter.contact)
    _insert_in_chunks(Reporter, values)
    consents = []
    for reporter_id, row in zip(ids, with_reporter):
        for kind, choice in sorted(row.reporter.consents.items()):
            consents.append({"reporter_id": reporter_id, "recipient_kind": kind,
                             "disclose_identity": choice == "identity", "given_on": now.date(),
                             "recorded_by_id": actor.id, "recorded_at": now, "_case": case_ids[row.number][1]})
    consent_ids = _insert_with_ids(Consent, [{k: v for k, v in c.items() if k != "_case"} for c in consents]) \
        if consents else []
    audit.record_many(actor, "reporter.create", [
        {"object_id": reporter_id, "case_ref": case_ids[row.number][1],
         "details": {"fields": sorted(key for key, value in row.reporter.contact.items() if value)}}
        for reporter_id, row in zip(ids, with_reporter)], object_type="reporter")
    audit.record_many(actor, "consent.record", [
        {"object_id": consent_id, "case_ref": consent["_case"],
         "details": {"reporter_id": consent["reporter_id"], "recipient_kind": consent["recipient_kind"],
                     "disclose_identity": consent["disclose_identity"]}}
        for consent_id, consent in zip(consent_ids, consents)], object_type="consent")
    report.reporters = len(ids)
    report.consents = len(consent_ids)


def _queue_unlinked(rows: list[ParsedRow], result: Review, decisions: dict[int, str],
                    person_of_row: dict[int, int]) -> int:
    """Candidate pairs the user did not settle go to the coordinators' review queue."""
    pairs = []
    for row in rows:
        person_id = person_of_row[row.number]
        for found in result.existing.get(row.number, []):
            if found.person_id != person_id:
                pairs.append((person_id, found.person_id, found.score, list(found.reasons)))
        for other, score, reasons in result.within.get(row.number, []):
            if person_of_row[other] != person_id:
                pairs.append((person_id, person_of_row[other], score, reasons))
    return match_index.queue_pairs(pairs)
