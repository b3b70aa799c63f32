"""Render a synthetic 2,000-case petition packet (list + per-case sections, no images) to PDF.

Standalone: ``python -m benchmarks.packet_render [--cases 2000] [--form standard|wgeid] [--lang ru]``.
The inputs are generated here (fictional names in all four scripts from ``casefile.demo.namebank``),
so this measures the renderer alone: sanitising, the glyph check, the view and Typst. Each run
happens in a fresh subprocess, so the peak RSS reported (``ru_maxrss`` of the child) is the
renderer's own, fonts and all. Target (DESIGN.md): under 5 s wall and under 500 MB peak memory.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import threading
import time
from typing import Any

TARGET_SECONDS = 5.0
TARGET_MB = 500.0

PLACES = ("Іле Қазақ автономиялық облысы, Құлжа ауданы, Жаңа-Талап ауылы",
          "Тарбағатай, Шәуешек қаласы, Қарабұлақ ауылы", "Алтай, Көктоғай ауданы, Шіңгіл ауылы",
          "Санжы, Мори ауданы, Ақтөбе ауылы", "Құмыл, Баркөл ауданы, Тасбұлақ ауылы")
FACILITIES = ("Құлжа қаласындағы «кәсіптік білім беру орталығы» №3", "Шәуешек тергеу изоляторы", "Үрімжі түрмесі №1",
              "Place unknown, believed near Ghulja", "伊宁县看守所")
STATUSES = ("missing", "camp", "detention_centre", "detained_unknown_place", "sentenced", "released_restricted",
            "forced_labour", "exit_barred")
REASONS = ("religious_practice", "relatives_abroad", "money_transfers", "travel_kazakhstan", "foreign_documents",
           "messaging_apps", "passport", "unknown")
NARRATIVE = ("Оны 2017 жылдың көктемінде түнде үйінен полиция алып кетті. Отбасына ешқандай құжат берілмеді. "
             "Кейін туыстары оның «оқуда» екенін естіді, бірақ қайда екені айтылмады.\n\n"
             "Әйелі 2018 жылы бір рет бейнебайланыс арқылы сөйлесті; ол арық әрі қорқып отырған көрінді.")


def _prc_id(rng: random.Random, year: int) -> str:
    body = f"6540{rng.randint(10, 28):02d}{year}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 999):03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, weights)) % 11]


def synthetic_inputs(count: int = 2000, *, form: str = "standard", language: str = "ru", seed: int = 11,
                     evidence_per_case: int = 2) -> dict[str, Any]:
    """A ``casefile.packet/1`` input dict of ``count`` fictional cases (no thumbnails)."""
    from casefile.demo.namebank import fictional_person

    rng = random.Random(seed)
    cases = []
    manifest = []
    for number in range(1, count + 1):
        person = fictional_person(rng)
        reference = f"KZ-2025-{number:05d}"
        detained = f"{rng.randint(2017, 2019)}-{rng.randint(1, 12):02d}"
        evidence = []
        for item in range(1, evidence_per_case + 1):
            sha = f"{rng.getrandbits(256):064x}"
            evidence.append({"item": item, "kind": rng.choice(("identity_document", "photo", "video_testimony", "letter")),
                             "date": f"{rng.randint(2018, 2024)}", "sha256": sha, "type": "JPEG image", "thumbnail": None})
            manifest.append({"case_number": number, "reference": reference, "item": item, "sha256": sha})
        cases.append({
            "number": number, "reference": reference,
            "names": [{"text": text, "script": script, "kind": kind} for script, kind, text in person.names],
            "sex": person.sex, "birth_date": str(person.birth_year), "citizenship": rng.choice(("prc_only", "kazakhstan",
                                                                                              "residence_permit")),
            "ethnicity": "Kazakh", "prc_id": _prc_id(rng, person.birth_year), "iin": None,
            "occupation": rng.choice(("Малшы", "Мұғалім", "Farmer", "Driver", "")),
            "kz_documents": rng.choice(("", "Residence permit application, 2016")),
            "hometown": rng.choice(PLACES), "status": rng.choice(STATUSES), "verification_level": rng.randint(0, 4),
            "detained_on": detained, "last_contact_on": rng.choice((None, "2018", "2019-03")), "trial_on": None,
            "release_on": None, "detention_place": rng.choice(FACILITIES),
            "alleged_reasons": rng.sample(REASONS, rng.randint(0, 3)), "alleged_reason_other": "",
            "sentence": rng.choice(("", "10 жыл, «экстремизм»")), "narrative": NARRATIVE,
            "family_steps": "2018 жылы СІМ-ге хат жазды; жауап келмеді.", "responsible_authority": "Қоғамдық қауіпсіздік бюросы",
            "timeline": [{"date": detained, "kind": "detention", "place": rng.choice(PLACES), "description": "Үйінен алып кетті"},
                         {"date": "2018", "kind": "contact", "place": "", "description": "Бейнебайланыс"}],
            "evidence": evidence,
            "reporters": [{"name": None, "relationship": rng.choice(("mother", "spouse", "brother", "daughter")),
                           "consents": True}],
            "urgent": False,
        })
    return {
        "schema": "casefile.packet/1",
        "packet": {"reference": "PK-2026-00001", "built_at": "2026-11-24T11:30:00Z", "language": language, "form": form,
                   "audit_head": f"{rng.getrandbits(256):064x}", "audit_count": 1_234_567},
        "organisation": {"name": "Benchmark volunteers", "contact": "Almaty\n+7 700 000 00 00"},
        "recipient": {"code": "kz-mfa", "name": "Ministry of Foreign Affairs of the Republic of Kazakhstan",
                      "address": "Astana, Kazakhstan"},
        "letter": {"date": "2026-11-24", "outgoing_reference": "12/2026", "subject": "Benchmark",
                   "text": "Paragraph one.\n\nParagraph two.", "requests": ["fate", "written_reply"],
                   "legal_basis": ["humanitarian"], "signatories": []},
        "summary": {"people": count, "period_from": "2017", "period_to": "2019", "prefectures": ["Іле", "Тарбағатай"]},
        "cases": cases,
        "signatures": [],
        "manifest": {"evidence": manifest},
    }


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _tree_rss_kb(root: int) -> int:
    """The resident memory of a process and all its descendants, now."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    parents[int(entry)] = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    tree, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        children = [child for child, parent in parents.items() if parent == pid and child not in tree]
        tree.update(children)
        frontier += children
    return sum(_rss_kb(pid) for pid in tree)


def _child(args: argparse.Namespace) -> None:
    """Generate, render, and print one JSON line of figures."""
    from casefile.packets.render import render_pdf

    inputs = synthetic_inputs(args.cases, form=args.form, language=args.lang)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    cpu_before = os.times()
    peak_sum = [0]
    done = threading.Event()

    def sample() -> None:  # the renderer's worker processes run alongside: add them up
        while not done.is_set():
            peak_sum[0] = max(peak_sum[0], _tree_rss_kb(os.getpid()))
            done.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    started = time.perf_counter()
    pdf = render_pdf(inputs)
    seconds = time.perf_counter() - started
    cpu_after = os.times()
    cpu = sum(getattr(cpu_after, f) - getattr(cpu_before, f) for f in ("user", "system", "children_user",
                                                                          "children_system"))
    done.set()
    sampler.join()
    self_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    workers_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(json.dumps({"seconds": seconds, "cpu": cpu, "load": os.getloadavg()[0], "self_mb": self_kb / 1024, "worker_mb": workers_kb / 1024,
                      "sum_mb": peak_sum[0] / 1024, "before_mb": before / 1024, "pdf_mb": len(pdf) / 1e6}))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--form", choices=("standard", "wgeid"), default="standard")
    parser.add_argument("--lang", choices=("kk", "ru", "en", "zh"), default="ru")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args)
        return 0
    results = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        out = subprocess.run([sys.executable, "-m", "benchmarks.packet_render", "--child", "--cases", str(args.cases),
                              "--form", args.form, "--lang", args.lang], capture_output=True, text=True, check=True)
        wall = time.perf_counter() - started
        figures = json.loads(out.stdout.strip().splitlines()[-1])
        figures["process_wall"] = wall
        results.append(figures)
        print(f"{args.cases} cases, {args.form}, {args.lang}: render {figures['seconds']:.2f} s wall, "
              f"{figures['cpu']:.1f} s CPU in all processes (load average before: {figures['load']:.2f}); peak RSS: "
              f"calling process {figures['self_mb']:.0f} MB (of which {figures['before_mb']:.0f} MB before rendering: "
              f"interpreter and inputs), largest worker {figures['worker_mb']:.0f} MB, all processes together "
              f"{figures['sum_mb']:.0f} MB (sampled); PDF {figures['pdf_mb']:.1f} MB", flush=True)
    best = min(r["seconds"] for r in results)
    peak = max(max(r["sum_mb"], r["self_mb"]) for r in results)
    ok = best < TARGET_SECONDS and peak < TARGET_MB
    print(f"best {best:.2f} s (target < {TARGET_SECONDS:.0f} s), peak of all processes together {peak:.0f} MB "
          f"(target < {TARGET_MB:.0f} MB): "
          f"{'OK' if ok else 'OVER TARGET'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
