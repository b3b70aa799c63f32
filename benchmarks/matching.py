"""Quality and speed of ``casefile.matching``: ``python -m benchmarks.matching [--existing N] [--new M]``.

Quality: precision and recall on ``tests/data/matching_labelled.json`` at several thresholds,
and how many pairs blocking keeps. Speed: N fictional people from the demo name bank already
recorded, M new rows (a tenth of them other spellings of recorded people), blocked and scored
in memory — the matching part of an import, without the database.
"""

from __future__ import annotations

import argparse
import random
import resource
import time
from itertools import combinations

from casefile.core.partial_dates import PartialDate
from casefile.demo.namebank import fictional_person
from casefile.matching import DEFAULT_THRESHOLD, PersonFacts, candidate_pairs, compare, prepare
from tests.matching.test_quality import labelled_pairs, load_labelled, precision_recall

THRESHOLDS = (0.3, DEFAULT_THRESHOLD, 0.7, 0.8)


def quality_figures() -> tuple[float, float]:
    """Precision and recall on the labelled set at the default threshold."""
    positives, negatives = labelled_pairs()
    precision, recall, _false_positives = precision_recall(positives, negatives, DEFAULT_THRESHOLD)
    return precision, recall


def quality() -> None:
    """Print precision and recall at a few thresholds, and what blocking keeps."""
    positives, negatives = labelled_pairs()
    print(f"labelled set: {len(positives)} pairs of one person, {len(negatives)} pairs of different people")
    for threshold in THRESHOLDS:
        precision, recall, false_positives = precision_recall(positives, negatives, threshold)
        marker = "  (default)" if threshold == DEFAULT_THRESHOLD else ""
        print(f"  threshold {threshold:.2f}: precision {precision:.3f}  recall {recall:.3f}  "
              f"different people accepted {false_positives}/{len(negatives)}{marker}")
    data = load_labelled()
    records, group = [], []
    for g in data.groups:
        records += [prepare(r) for r in g]
        group += [id(g)] * len(g)
    pairs = candidate_pairs(records)
    same = {(i, j) for i, j in combinations(range(len(records)), 2) if group[i] == group[j]}
    print(f"blocking: {len(records)} records, {len(records) * (len(records) - 1) // 2} pairs, "
          f"{len(pairs)} candidates, {len(same & pairs)}/{len(same)} pairs of one person among them")


def _variant(person: PersonFacts, rng: random.Random) -> PersonFacts:
    """The same person as another list would write them: one of their other names, fewer facts."""
    text, script = rng.choice(person.names)
    birth = person.birth_date if rng.random() < 0.6 else None
    return PersonFacts([(text, script)], birth_date=birth, sex=person.sex if rng.random() < 0.5 else None)


def speed(existing_count: int, new_count: int, seed: int = 7) -> None:
    """Block and score ``new_count`` rows against ``existing_count`` people; print timings."""
    rng = random.Random(seed)

    def person() -> PersonFacts:
        made = fictional_person(rng)
        return PersonFacts([(text, script) for script, _kind, text in made.names],
                           birth_date=PartialDate(made.birth_year), sex=made.sex)

    existing = [person() for _ in range(existing_count)]
    new, planted = [], {}
    for i in range(new_count):
        if rng.random() < 0.1:
            planted[i] = rng.randrange(existing_count)
            new.append(_variant(existing[planted[i]], rng))
        else:
            new.append(person())
    started = time.perf_counter()
    prepared_existing = [prepare(p) for p in existing]
    prepared_new = [prepare(p) for p in new]
    prepared = time.perf_counter()
    pairs = candidate_pairs(prepared_new, prepared_existing)
    blocked = time.perf_counter()
    proposed = {(i, j) for i, j in pairs if compare(prepared_new[i], prepared_existing[j]).score >= DEFAULT_THRESHOLD}
    scored = time.perf_counter()
    blocked_planted = sum((i, j) in pairs for i, j in planted.items())
    found_planted = sum((i, j) in proposed for i, j in planted.items())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{new_count} new rows against {len(existing)} people:")
    print(f"  prepare {prepared - started:.1f} s, block {blocked - prepared:.1f} s "
          f"({len(pairs)} candidate pairs, {len(pairs) / max(new_count, 1):.0f} per row), "
          f"score {scored - blocked:.1f} s ({len(proposed)} at or above {DEFAULT_THRESHOLD})")
    print(f"  planted duplicates (another spelling, fewer facts): {len(planted)}, blocked together "
          f"{blocked_planted}, proposed {found_planted}; the other proposals are namesakes the name bank makes")
    print(f"  total {scored - started:.1f} s, peak memory {peak:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--existing", type=int, default=100_000)
    parser.add_argument("--new", type=int, default=10_000)
    args = parser.parse_args()
    quality()
    speed(args.existing, args.new)


if __name__ == "__main__":
    main()
