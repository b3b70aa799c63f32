"""Rows for tests, made through the real services so every rule and audit event applies."""

from __future__ import annotations

import itertools
from typing import Any

from flask import Flask
from sqlalchemy import select

from casefile.access import unscoped
from casefile.auth import services as auth_services
from casefile.auth.models import User
from casefile.cases import services as case_services
from casefile.cases.models import Case
from casefile.core.partial_dates import PartialDate
from casefile.extensions import db
from casefile.people.services import PersonInput

_counter = itertools.count(1)


class Factory:
    """Creates and commits users and cases; ``password`` is every test user's password."""

    password = "correct horse battery staple"

    def __init__(self, app: Flask) -> None:
        self.app = app

    def user(self, role: str = "advocate", teams: tuple[str, ...] = ("Almaty",), username: str | None = None,
             **kwargs: Any) -> User:
        db.session.commit()  # end any read transaction a request may have overtaken
        username = username or f"{role}{next(_counter)}"
        user = auth_services.create_user(None, username=username, role=role, password=self.password,
                                         teams=teams if role in ("advocate", "coordinator") else (), **kwargs)
        db.session.commit()
        return user

    def case(self, actor: User, *, names: list[tuple[str, str, str]] | None = None, team: str | None = None,
             person: dict[str, Any] | None = None, **fields: Any) -> Case:
        db.session.commit()
        team_name = team or (actor.teams[0].name if actor.teams else "Almaty")
        team_row = auth_services.team_by_name(team_name) or auth_services.ensure_teams(None, [team_name])[0]
        person_input = PersonInput(names=names or [("cyrillic", "primary", "Нұрлан Тоқтарұлы")], **(person or {}))
        fields.setdefault("detained_on", PartialDate(2018, 3))
        data = case_services.CaseInput(person=person_input, team_id=team_row.id, **fields)
        case = case_services.open_case(actor, data)
        db.session.commit()
        return case

    def reload_case(self, reference: str) -> Case:
        db.session.commit()
        case = db.session.scalar(select(Case).where(Case.reference == reference).execution_options(**unscoped("test")))
        assert case is not None
        return case
