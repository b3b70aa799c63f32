"""``casefile demo``: a demo organisation with fictional cases, made through the real services."""

from __future__ import annotations

import random
import secrets

from sqlalchemy import func, select

from casefile.access import unscoped
from casefile.auth import services as auth_services
from casefile.auth.models import User
from casefile.cases import services as case_services
from casefile.cases.models import Case
from casefile.demo.records import fictional_case
from casefile.extensions import db
from casefile.people.services import PersonInput

TEAMS = ("Almaty volunteers", "Astana documentation")
ACCOUNTS = (
    ("advocate.almaty", "advocate", (TEAMS[0],), "Aigerim (demo advocate)"),
    ("advocate.astana", "advocate", (TEAMS[1],), "Daniyar (demo advocate)"),
    ("coordinator", "coordinator", TEAMS, "Saule (demo coordinator)"),
    ("auditor", "auditor", (), "Demo auditor"),
    ("admin", "admin", (), "Demo admin"),
)


class DemoRefused(RuntimeError):
    """The instance is not empty; the demo never mixes with real cases."""


def build_demo(case_count: int = 200, seed: int = 2025) -> list[tuple[str, str, str]]:
    """Create the demo organisation; returns (username, role, password) of each account."""
    existing = db.session.scalar(select(func.count(Case.id)).execution_options(**unscoped("demo emptiness check")))
    if existing:
        raise DemoRefused("This instance already has cases; the demo only fills an empty instance.")
    if db.session.scalar(select(func.count(User.id)).where(User.username.in_([a[0] for a in ACCOUNTS]))):
        raise DemoRefused("Demo accounts already exist on this instance.")
    rng = random.Random(seed)
    created: list[tuple[str, str, str]] = []
    users: dict[str, User] = {}
    for username, role, teams, display in ACCOUNTS:
        password = secrets.token_urlsafe(12)
        users[username] = auth_services.create_user(None, username=username, role=role, password=password,
                                                    teams=teams, display_name=display)
        created.append((username, role, password))
    authors = [users["advocate.almaty"], users["advocate.astana"], users["coordinator"]]
    for index in range(case_count):
        record = fictional_case(rng)
        actor = authors[index % len(authors)]
        team = actor.teams[index % len(actor.teams)]
        person = PersonInput(
            names=record.names, sex=record.sex, birth_date=record.birth_date, ethnicity="Kazakh",
            prc_id=record.prc_id, iin=record.iin, hometown_code=record.hometown_code,
            hometown_village=record.village, occupation=record.occupation, citizenship=record.citizenship,
        )
        case = case_services.open_case(actor, case_services.CaseInput(
            person=person, team_id=team.id, status=record.status, status_on=record.detained_on,
            status_source="Testimony of a relative (demo)", verification_level=record.verification_level,
            detained_on=record.detained_on, last_contact_on=record.last_contact_on,
            detention_facility=record.detention_facility, alleged_reasons=record.alleged_reasons,
            narrative=record.narrative, restricted=record.restricted,
            named_user_ids=[users["coordinator"].id] if record.restricted else [],
        ))
        for reporter in record.reporters:
            case_services.add_reporter(actor, case, case_services.ReporterInput(
                full_name=str(reporter["full_name"]), relationship_kind=str(reporter["relationship"]),
                contact={"phone": str(reporter["phone"])}, consents=dict(reporter["consents"]),  # type: ignore[arg-type]
            ))
    return created
