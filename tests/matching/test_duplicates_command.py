"""``casefile duplicates`` over the people recorded in the database."""

from __future__ import annotations

import json

from casefile.core.partial_dates import PartialDate
from tests.evidence.test_cli import invoke


def test_the_same_man_in_two_scripts_is_proposed_and_a_stranger_is_not(app, factory) -> None:  # type: ignore[no-untyped-def]
    advocate = factory.user("advocate")
    first = factory.case(advocate, names=[("cyrillic", "primary", "Нұрлан Тоқтарұлы")],
                         person={"birth_date": PartialDate(1971, 5)})
    second = factory.case(advocate, names=[("chinese", "primary", "努尔兰·托克塔尔")],
                          person={"birth_date": PartialDate(1971)})
    factory.case(advocate, names=[("cyrillic", "primary", "Тоқтар Нұрланұлы")],
                 person={"birth_date": PartialDate(1995)})  # the son: never the same person
    result = invoke(app, ["duplicates", "--json"])
    assert result.exit_code == 0, result.output
    [pair] = json.loads(result.output)
    assert {pair["first_name"], pair["second_name"]} == {"Нұрлан Тоқтарұлы", "努尔兰·托克塔尔"}
    assert {*pair["first_cases"], *pair["second_cases"]} == {first.reference, second.reference}
    assert pair["score"] >= 0.5 and any("across scripts" in reason for reason in pair["reasons"])
    text = invoke(app, ["duplicates"])
    assert "1 candidate pair(s)." in text.output and "Нұрлан Тоқтарұлы" in text.output
    assert invoke(app, ["duplicates", "--min-score", "1"]).output.strip() == "0 candidate pair(s)."
