"""Duplicate detection of people across scripts: name keys, a match score and blocking keys.

Pure Python, no database: ``keys`` takes one written name apart (given name, father's name,
family name) and spells each part in one Latin form; ``chinese`` reads Chinese transcriptions
of Kazakh names back into Kazakh sounds; ``score`` compares two people and says why, and gives
the blocking keys that keep the number of comparisons small.

With the database: ``index`` keeps every person's blocking keys, matches new rows against them
and fills the review queue; ``review`` is the coordinators' queue, "not the same person" and
merges (``views`` its pages). Import those modules directly: this package stays pure.
"""

from casefile.matching.keys import NameKeys, NamePart, person_name_keys
from casefile.matching.score import (
    DEFAULT_THRESHOLD,
    Match,
    PersonFacts,
    PreparedPerson,
    blocking_keys,
    candidate_pairs,
    compare,
    prepare,
)

__all__ = [
    "DEFAULT_THRESHOLD",
    "Match",
    "NameKeys",
    "NamePart",
    "PersonFacts",
    "PreparedPerson",
    "blocking_keys",
    "candidate_pairs",
    "compare",
    "person_name_keys",
    "prepare",
]
