"""Build a registry-sized corpus of API v2 study records (JSON Lines) by cloning the real records in shared/data.

Every clone gets a new NCT id in the reserved range NCT9xxxxxxx (real ids have not reached NCT07..., so clones never
collide with real studies), and is varied the way the registry varies: conditions with their MeSH terms taken from
another real record, sites resampled from the real sites (with their real geoPoints), status, phases and dates
spread over 2000-2026. Output is streamed, so memory stays bounded whatever --count is, and it is deterministic
for a given --seed and shared data.

    .venv/bin/python bench/make_corpus.py                      # 600,000 studies -> /tmp/trialfinder-corpus/corpus.jsonl
    .venv/bin/python bench/make_corpus.py --count 50000 --gzip --output /tmp/trialfinder-corpus/corpus-50k.jsonl.gz
    .venv/bin/trialfinder --data-dir /tmp/trialfinder-corpus/data ingest /tmp/trialfinder-corpus/corpus.jsonl
"""

from __future__ import annotations

import argparse
import gzip
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, BinaryIO

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DEFAULT_CORPUS_DIR, shared_data_dir  # noqa: E402

FIRST_CORPUS_NUMBER = 90_000_000  # NCT90000000 upwards: a range the registry has not reached
DEFAULT_COUNT = 600_000

# Share of clones made from each kind of real record. The full v2 records carry geoPoints, MeSH terms and results;
# the converted legacy XML records add thousands of distinct titles, summaries and criteria texts (so search
# benchmarks do not see only 565 texts); the sparse TrialGPT conversions stand for the thin records some sources give.
TEMPLATE_MIX = {"v2": 0.55, "legacy": 0.40, "sparse": 0.05}

# Approximate status mix of the registry (rounded shares; exact figures do not matter for throughput).
STATUS_WEIGHTS = {
    "COMPLETED": 47, "UNKNOWN": 16, "RECRUITING": 11, "TERMINATED": 5.5, "ACTIVE_NOT_RECRUITING": 4.5,
    "NOT_YET_RECRUITING": 3, "WITHDRAWN": 2.7, "ENROLLING_BY_INVITATION": 0.8, "SUSPENDED": 0.3,
    "NO_LONGER_AVAILABLE": 0.1, "AVAILABLE": 0.1, "APPROVED_FOR_MARKETING": 0.05, "TEMPORARILY_NOT_AVAILABLE": 0.02,
    "WITHHELD": 0.02,
}
PHASE_WEIGHTS = {
    ("NA",): 30, ("PHASE2",): 20, ("PHASE1",): 12, ("PHASE3",): 10, ("PHASE4",): 10, ("PHASE1", "PHASE2"): 5,
    ("PHASE2", "PHASE3"): 2, ("EARLY_PHASE1",): 2,
}
# What a site's own recruitment status is while the study has this overall status (others carry none).
SITE_STATUS_FOR = {
    "RECRUITING": ("RECRUITING", "RECRUITING", "RECRUITING", "NOT_YET_RECRUITING", "COMPLETED"),
    "NOT_YET_RECRUITING": ("NOT_YET_RECRUITING",),
    "ACTIVE_NOT_RECRUITING": ("ACTIVE_NOT_RECRUITING",),
    "ENROLLING_BY_INVITATION": ("ENROLLING_BY_INVITATION",),
}
EARLIEST_START = date(2000, 1, 1)
LATEST_START = date(2026, 6, 30)
LATEST_UPDATE = date(2026, 6, 30)
TODAY_FOR_DATE_TYPES = date(2025, 11, 25)  # fixed, so the corpus does not depend on the day it is built


@dataclass
class RealPools:
    """The real records and the parts recombined into clones."""

    templates: dict[str, list[dict[str, Any]]]
    conditions: list[tuple[dict[str, Any], dict[str, Any] | None]] = field(default_factory=list)
    sites: list[dict[str, Any]] = field(default_factory=list)
    site_counts: list[int] = field(default_factory=list)


def load_real_records(data_dir: Path) -> RealPools:
    """Read the real records once (distinct by NCT id, in a stable order) and collect the recombinable parts."""
    from trialfinder.ingest.readers import Record, read_paths

    sources = {
        "v2": data_dir / "ctgov" / "v2_json",
        "legacy": data_dir / "ctgov" / "legacy_xml",
        "sparse": data_dir / "trialgpt_trial_texts" / "as_ctgov_v2.json",
    }
    seen: set[str] = set()
    templates: dict[str, list[dict[str, Any]]] = {kind: [] for kind in sources}
    for kind, path in sources.items():
        if not path.exists():
            raise SystemExit(f"missing real data: {path} (set TRIALFINDER_SHARED_DATA)")
        for item in read_paths([path]):
            if isinstance(item, Record) and item.study.nct_id not in seen:
                seen.add(item.study.nct_id)
                templates[kind].append(orjson.loads(item.raw))
    pools = RealPools(templates=templates)
    for record in templates["v2"] + templates["legacy"] + templates["sparse"]:
        conditions = record["protocolSection"].get("conditionsModule")
        if conditions and conditions.get("conditions"):
            browse = (record.get("derivedSection") or {}).get("conditionBrowseModule")
            pools.conditions.append((conditions, browse))
    for record in templates["v2"]:
        locations = (record["protocolSection"].get("contactsLocationsModule") or {}).get("locations") or []
        pools.site_counts.append(len(locations))
        pools.sites.extend(locations)
    return pools


class CloneMaker:
    """Makes the i-th clone from a seeded random stream; one instance per corpus."""

    def __init__(self, pools: RealPools, seed: int):
        self.pools = pools
        self.random = random.Random(seed)
        kinds = [kind for kind in TEMPLATE_MIX if pools.templates[kind]]
        self.kinds = kinds
        self.kind_weights = [TEMPLATE_MIX[kind] for kind in kinds]
        self.statuses = list(STATUS_WEIGHTS)
        self.status_weights = list(STATUS_WEIGHTS.values())
        self.phases = [list(phases) for phases in PHASE_WEIGHTS]
        self.phase_weights = list(PHASE_WEIGHTS.values())
        self.start_span_days = (LATEST_START - EARLIEST_START).days

    def clone(self, number: int) -> dict[str, Any]:
        """A new record: a real template with new id, conditions, sites, status, phases and dates."""
        rng = self.random
        kind = rng.choices(self.kinds, self.kind_weights)[0]
        template = rng.choice(self.pools.templates[kind])
        nct_id = f"NCT{FIRST_CORPUS_NUMBER + number:08d}"
        # Copy only the containers that change; everything else is shared with the template and serialised as is.
        record = dict(template)
        protocol = record["protocolSection"] = dict(template["protocolSection"])
        identification = protocol["identificationModule"] = dict(protocol.get("identificationModule") or {})
        identification["nctId"] = nct_id
        identification.pop("nctIdAliases", None)
        status = self._status(rng)
        protocol["statusModule"] = self._status_module(rng, protocol.get("statusModule") or {}, status)
        self._vary_design(rng, protocol)
        self._vary_conditions(rng, record, protocol)
        self._vary_sites(rng, protocol, status, own_sites=kind == "v2")
        return record

    def _status(self, rng: random.Random) -> str:
        return rng.choices(self.statuses, self.status_weights)[0]

    def _status_module(self, rng: random.Random, template: dict[str, Any], status: str) -> dict[str, Any]:
        start = EARLIEST_START + timedelta(days=rng.randrange(self.start_span_days))
        primary_completion = start + timedelta(days=rng.randrange(180, 2200))
        completion = primary_completion + timedelta(days=rng.randrange(0, 720))
        submitted = max(date(1999, 9, 1), start - timedelta(days=rng.randrange(0, 365)))
        first_posted = submitted + timedelta(days=rng.randrange(1, 30))
        update_span = max(1, (LATEST_UPDATE - first_posted).days)
        last_update = min(LATEST_UPDATE, first_posted + timedelta(days=rng.randrange(update_span)))
        module = dict(template)
        module.update(
            statusVerifiedDate=last_update.strftime("%Y-%m"),
            overallStatus=status,
            startDateStruct=_date_struct(start, monthly=rng.random() < 0.4),
            primaryCompletionDateStruct=_date_struct(primary_completion, monthly=rng.random() < 0.4),
            completionDateStruct=_date_struct(completion, monthly=rng.random() < 0.4),
            studyFirstSubmitDate=submitted.isoformat(),
            studyFirstPostDateStruct={"date": first_posted.isoformat(), "type": "ACTUAL"},
            lastUpdateSubmitDate=last_update.isoformat(),
            lastUpdatePostDateStruct={"date": last_update.isoformat(), "type": "ACTUAL"},
        )
        if status not in ("TERMINATED", "WITHDRAWN", "SUSPENDED"):
            module.pop("whyStopped", None)
        elif "whyStopped" not in module:
            module["whyStopped"] = rng.choice(("Sponsor decision", "Slow accrual", "Funding ended", "Business reasons"))
        return module

    def _vary_design(self, rng: random.Random, protocol: dict[str, Any]) -> None:
        design = protocol.get("designModule")
        if design is None:
            return
        design = protocol["designModule"] = dict(design)
        if design.get("studyType") == "INTERVENTIONAL" or (design.get("phases") and rng.random() < 0.5):
            design["phases"] = rng.choices(self.phases, self.phase_weights)[0]
        enrollment = design.get("enrollmentInfo")
        if enrollment and isinstance(enrollment.get("count"), int):
            design["enrollmentInfo"] = enrollment | {"count": max(1, int(enrollment["count"] * rng.uniform(0.3, 2.5)))}

    def _vary_conditions(self, rng: random.Random, record: dict[str, Any], protocol: dict[str, Any]) -> None:
        # Half the clones study their template's conditions; the other half a real record's conditions and MeSH
        # terms together, so the condition text and the derived MeSH terms still agree with each other.
        if rng.random() < 0.5 or not self.pools.conditions:
            return
        conditions, browse = rng.choice(self.pools.conditions)
        protocol["conditionsModule"] = conditions
        derived = record.get("derivedSection")
        if derived is not None or browse is not None:
            derived = record["derivedSection"] = dict(derived or {})
            if browse is None:
                derived.pop("conditionBrowseModule", None)
            else:
                derived["conditionBrowseModule"] = browse

    def _vary_sites(self, rng: random.Random, protocol: dict[str, Any], status: str, *, own_sites: bool) -> None:
        template_module = protocol.get("contactsLocationsModule") or {}
        own = template_module.get("locations") or []
        if own_sites and own and rng.random() < 0.3:
            chosen = rng.sample(own, len(own))
        else:
            count = round(rng.choice(self.pools.site_counts) * rng.uniform(0.4, 1.2))
            chosen = [rng.choice(self.pools.sites) for _ in range(count)]
        site_statuses = SITE_STATUS_FOR.get(status)
        locations = []
        for site in chosen:
            site = dict(site)
            if site_statuses:
                site["status"] = rng.choice(site_statuses)
            else:
                site.pop("status", None)
            locations.append(site)
        if locations or template_module:
            module = protocol["contactsLocationsModule"] = dict(template_module)
            if locations:
                module["locations"] = locations
            else:
                module.pop("locations", None)


def _date_struct(day: date, *, monthly: bool) -> dict[str, str]:
    text = day.strftime("%Y-%m") if monthly else day.isoformat()
    return {"date": text, "type": "ACTUAL" if day <= TODAY_FOR_DATE_TYPES else "ESTIMATED"}


def generate(pools: RealPools, count: int, seed: int) -> Iterator[bytes]:
    """The corpus, one JSON line (with its newline) at a time."""
    maker = CloneMaker(pools, seed)
    for number in range(count):
        yield orjson.dumps(maker.clone(number)) + b"\n"


def _open_output(path: Path, compress: bool, level: int) -> BinaryIO:
    path.parent.mkdir(parents=True, exist_ok=True)
    if compress:
        return gzip.open(path, "wb", compresslevel=level)
    return open(path, "wb", buffering=8 * 1024 * 1024)


def write_corpus(output: Path, count: int, seed: int, *, compress: bool = False, level: int = 3,
                 data_dir: Path | None = None, progress: bool = True) -> tuple[int, float]:
    """Write the corpus to output (atomically, via a temporary name); returns (bytes written, seconds)."""
    started = time.perf_counter()
    pools = load_real_records(data_dir or shared_data_dir())
    if progress:
        sizes = {kind: len(records) for kind, records in pools.templates.items()}
        print(f"real records: {sizes}, {len(pools.sites)} sites, {len(pools.conditions)} condition sets "
              f"({time.perf_counter() - started:.1f} s)", file=sys.stderr)
    partial = output.with_name(output.name + ".partial")
    written = 0
    with _open_output(partial, compress, level) as handle:
        for number, line in enumerate(generate(pools, count, seed), start=1):
            handle.write(line)
            written += len(line)
            if progress and number % 50_000 == 0:
                elapsed = time.perf_counter() - started
                print(f"  {number:,} studies, {written / 1e9:.2f} GB uncompressed, {elapsed:.0f} s", file=sys.stderr)
    partial.replace(output)
    return written, time.perf_counter() - started


def main(argv: list[str] | None = None) -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=DEFAULT_COUNT, help="studies to write (default 600000)")
    parser.add_argument("--seed", type=int, default=20251125, help="random seed (same seed, same corpus)")
    parser.add_argument("--output", type=Path, default=None,
                        help=f"output file (default {DEFAULT_CORPUS_DIR}/corpus.jsonl, or .jsonl.gz with --gzip)")
    parser.add_argument("--gzip", action="store_true", help="gzip the output")
    parser.add_argument("--gzip-level", type=int, default=3, help="gzip level (default 3: fast, ~6x smaller)")
    parser.add_argument("--data", type=Path, default=None,
                        help="shared data folder (default $TRIALFINDER_SHARED_DATA or ../shared/data)")
    args = parser.parse_args(argv)
    if args.count > 9_999_999:
        parser.error("--count must stay below 10,000,000 (the reserved NCT9xxxxxxx range)")
    output = args.output or DEFAULT_CORPUS_DIR / ("corpus.jsonl.gz" if args.gzip else "corpus.jsonl")
    compress = args.gzip or output.name.endswith(".gz")
    written, seconds = write_corpus(output, args.count, args.seed, compress=compress, level=args.gzip_level,
                                    data_dir=args.data)
    on_disk = output.stat().st_size
    print(f"wrote {args.count:,} studies to {output}: {written / 1e9:.2f} GB of JSON, {on_disk / 1e9:.2f} GB on disk, "
          f"{seconds:.0f} s ({args.count / seconds:,.0f} studies/s)", file=sys.stderr)


if __name__ == "__main__":
    main()
