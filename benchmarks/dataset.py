"""Generate a benchmark organisation of N realistic fictional cases by bulk insert.

The rows are the same records ``casefile demo`` makes (``casefile.demo.records``), written
with Core inserts so 100,000 cases take a minute or two rather than an hour of form posts.
"""

from __future__ import annotations

import random
import time
from datetime import timedelta
from typing import Any

from sqlalchemy import insert

from casefile.auth import services as auth_services
from casefile.cases.models import Case, CaseStatusEvent
from casefile.db import utcnow
from casefile.demo.records import fictional_case
from casefile.extensions import db
from casefile.matching import PersonFacts
from casefile.matching.index import bulk_key_rows
from casefile.matching.models import PersonMatchKey
from casefile.people.models import NameToken, Person, PersonName
from casefile.people.names import index_tokens

TEAMS = ("Almaty volunteers", "Astana documentation", "Shymkent group", "Taldykorgan group")
PREFECTURES = ("654000", "654200", "654300", "650100", "652300", "650500", "652700")
BATCH = 5000
PASSWORD = "benchmark password 2025"
SEED = 7


def create_accounts() -> dict[str, Any]:
    """One advocate in two of the four teams, one coordinator; returns them by role."""
    advocate = auth_services.create_user(None, username="bench.advocate", role="advocate", password=PASSWORD,
                                         teams=TEAMS[:2])
    coordinator = auth_services.create_user(None, username="bench.coordinator", role="coordinator",
                                            password=PASSWORD, teams=TEAMS)
    db.session.commit()
    return {"advocate": advocate, "coordinator": coordinator}


def generate(case_count: int, seed: int = SEED, progress: bool = True, match_keys: bool = False) -> None:
    """Insert ``case_count`` cases with persons, names, tokens and a status event each (and, with
    ``match_keys``, every person's blocking keys, as the app keeps them)."""
    accounts = create_accounts()
    team_ids = [auth_services.team_by_name(name).id for name in TEAMS]  # type: ignore[union-attr]
    author = accounts["coordinator"].id
    rng = random.Random(seed)
    started = time.perf_counter()
    base_time = utcnow() - timedelta(days=900)
    for start in range(0, case_count, BATCH):
        persons, names, tokens, cases, events, facts = [], [], [], [], [], []
        for offset in range(start, min(start + BATCH, case_count)):
            record = fictional_case(rng, PREFECTURES)
            person_id = offset + 1
            persons.append({
                "id": person_id, "sex": record.sex, "birth_date": record.birth_date, "ethnicity": "Kazakh",
                "prc_id": record.prc_id, "iin": record.iin, "hometown_code": record.hometown_code,
                "hometown_village": record.village,
                "occupation": record.occupation, "citizenship": record.citizenship, "kz_documents": "",
                "kazakhstan_ties": "",
            })
            if match_keys:
                facts.append((person_id, PersonFacts(
                    names=[(text, script) for script, _kind, text in record.names], birth_date=record.birth_date,
                    sex=record.sex, prc_id=record.prc_id, iin=record.iin, hometown_code=record.hometown_code)))
            for position, (script, kind, text) in enumerate(record.names):
                name_id = person_id * 10 + position
                names.append({"id": name_id, "person_id": person_id, "script": script, "kind": kind, "text": text,
                              "position": position})
                tokens.extend({"name_id": name_id, "token": token, "person_id": person_id}
                              for token in index_tokens(text))
            changed = base_time + timedelta(seconds=offset * 600 // max(1, case_count // 1000))
            cases.append({
                "id": person_id, "reference": f"KZ-2024-{person_id:06d}", "person_id": person_id,
                "team_id": team_ids[offset % len(team_ids)], "status": record.status,
                "prefecture_code": record.hometown_prefecture_code,
                "verification_level": record.verification_level, "detained_on": record.detained_on,
                "last_contact_on": record.last_contact_on, "detention_facility": record.detention_facility,
                "detention_city": "", "alleged_reasons": record.alleged_reasons, "alleged_reason_other": "",
                "sentence": "", "narrative": record.narrative, "restricted": record.restricted,
                "created_by_id": author, "created_at": changed, "updated_at": changed,
            })
            events.append({"case_id": person_id, "status": record.status, "occurred_on": record.detained_on,
                           "source": "benchmark", "recorded_by_id": author, "recorded_at": changed})
        for model, rows in ((Person, persons), (PersonName, names), (NameToken, tokens), (Case, cases),
                            (CaseStatusEvent, events)):
            db.session.execute(insert(model), rows)
        if facts:
            db.session.execute(insert(PersonMatchKey), list(bulk_key_rows(facts)))
        db.session.commit()
        if progress:
            done = min(start + BATCH, case_count)
            print(f"  {done:>7} cases  {time.perf_counter() - started:6.1f} s", flush=True)
    _reset_sequences()


def _reset_sequences() -> None:
    # Explicit ids leave PostgreSQL's sequences behind; later inserts would collide.
    if db.session.get_bind().dialect.name != "postgresql":
        return
    for table in ("persons", "person_names", "cases", "case_status_events"):
        db.session.execute(db.text(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
    db.session.commit()
