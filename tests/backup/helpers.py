"""An organisation to back up or re-key, and the CLI as an operator runs it."""

from __future__ import annotations

import contextvars
import os
import random
from dataclasses import dataclass
from datetime import date

from click.testing import CliRunner, Result
from flask import Flask
from flask.cli import ScriptInfo
from sqlalchemy import MetaData, func, select

from casefile.access import unscoped
from casefile.backup.services import EXCLUDED_TABLES
from casefile.cases import services as case_services
from casefile.cases.models import Case
from casefile.cli import main
from casefile.evidence.models import EvidenceItem
from casefile.extensions import db
from tests.evidence.helpers import PDF, png, upload
from tests.factories import Factory
from tests.helpers import WebSession

PHONE = "+7 701 555 44 33"


def invoke(app: Flask, args: list[str], stdin: str | None = None) -> Result:
    """Run ``casefile ARGS`` on ``app`` in a context of its own, as a separate process would."""
    return contextvars.Context().run(CliRunner().invoke, main, args, input=stdin,
                                     obj=ScriptInfo(create_app=lambda: app))


def big_pdf(seed: int, size: int = 2_500_000) -> bytes:
    """Three chunks of the blob format (1 MiB, 1 MiB, the rest)."""
    return b"%PDF-1.4\n" + random.Random(seed).randbytes(size)


@dataclass
class Organisation:
    reference: str
    reporter_id: int
    files: dict[int, bytes]  # evidence item id -> original bytes
    advocate: str


def populate(app: Flask, factory: Factory) -> Organisation:
    """Accounts, cases over two years, a reporter with sealed contact details, files with previews."""
    advocate = factory.user("advocate", teams=("Almaty",))
    factory.user("coordinator", teams=("Almaty", "Shymkent"))
    factory.user("auditor")
    cases = [factory.case(advocate) for _ in range(3)]
    case = factory.reload_case(cases[0].reference)
    reporter = case_services.add_reporter(advocate, case, case_services.ReporterInput(
        full_name="Гүлнар Сейтқызы", relationship_kind="sister", contact={"phone": PHONE},
        consents={"kz_mfa": "identity"}, consent_on=date(2025, 5, 1)))
    db.session.commit()
    web = WebSession(app.test_client())
    web.login(advocate.username, factory.password)
    contents = [big_pdf(1), PDF, png("green")]
    for number, content in enumerate(contents):
        name = ("big.pdf", "letter.pdf", "photo.png")[number]
        response = upload(web, cases[number % 2].reference, [(content, name)])
        assert response.status_code == 302, response.get_data(as_text=True)
    db.session.commit()
    items = list(db.session.scalars(select(EvidenceItem).order_by(EvidenceItem.id)
                                    .execution_options(**unscoped("test"))))
    assert len(items) == 3
    return Organisation(reference=cases[0].reference, reporter_id=reporter.id,
                        files={item.id: content for item, content in zip(items, contents)},
                        advocate=advocate.username)


def postgres_server() -> str | None:
    return os.environ.get("CASEFILE_TEST_DATABASE_URL") or None


def table_counts(app: Flask) -> dict[str, int]:
    with app.app_context():
        with db.engine.connect() as connection:
            metadata = MetaData()
            metadata.reflect(connection)
            counts = {table.name: connection.execute(select(func.count()).select_from(table)).scalar() or 0
                      for table in metadata.sorted_tables if table.name not in EXCLUDED_TABLES}
        db.session.remove()
    return counts


def reference_of(app: Flask, item_id: int) -> str:
    """The reference of the case an evidence item belongs to."""
    with app.app_context():
        reference = db.session.scalar(select(Case.reference).join(EvidenceItem, EvidenceItem.case_id == Case.id)
                                      .where(EvidenceItem.id == item_id).execution_options(**unscoped("test")))
        db.session.remove()
    return reference
