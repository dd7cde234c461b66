"""Hardening by hand: schemathesis against both APIs of the whole app (website, middleware and all), with many
more generated requests per operation than the normal suite runs.

    .venv/bin/python bench/load_schemathesis.py --examples 1000

Our API is checked against the OpenAPI document the app serves (/api/openapi.json); the ClinicalTrials.gov
compatible API against ClinicalTrials.gov's own document (../shared/reference/ctgov-api-v2-openapi.yaml). Every
response must be below 500 and match its document. `positive_data_acceptance` is skipped, as in the normal suite:
valid-looking input may still name no known place or field (a documented 400). Results:
bench/results/load_schemathesis.md.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import positive_data_acceptance
from schemathesis.specs.openapi.checks import content_type_conformance

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS_DIR, load_average, machine_markdown, shared_data_dir

COMPAT_SPEC = shared_data_dir().parent / "reference" / "ctgov-api-v2-openapi.yaml"


def build_app(data_dir: Path):
    """The whole app, as `trialfinder serve` builds it, over the shared v2 studies and legacy XML fixtures."""
    from trialfinder.api.limits import LimitsConfig
    from trialfinder.config import load_settings
    from trialfinder.index import build_index
    from trialfinder.ingest import ingest_paths
    from trialfinder.server import create_app, open_services
    from trialfinder.store import Store

    settings = load_settings(data_dir=data_dir)
    store = Store.open(settings.database_url)
    shared = shared_data_dir()
    ingest_paths(store, [shared / "ctgov" / "v2_json", shared / "ctgov" / "legacy_xml" / "aact_spec_fixtures"])
    build_index(settings, store)
    store.close()
    return create_app(settings, open_services(settings), follow_interval=0, limits=LimitsConfig())


def fuzz_operation(operation, examples: int, excluded) -> tuple[int, Counter, list[str]]:
    """Run `examples` generated cases; (cases run, status counts, distinct failure messages)."""
    statuses: Counter = Counter()
    failures: dict[str, str] = {}
    ran = 0

    @given(case=operation.as_strategy())
    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck),
              derandomize=False)
    def check(case) -> None:
        nonlocal ran
        ran += 1
        try:
            response = case.call()
            statuses[response.status_code] += 1
            case.validate_response(response, excluded_checks=excluded(case))
        except Exception as error:  # noqa: BLE001  (collect, do not stop: one run should show every distinct problem)
            key = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"[:300]
            failures.setdefault(key, f"{key}\n    e.g. {case.as_curl_command()}"[:1500])

    check()
    return ran, statuses, list(failures.values())


def operation_name(operation) -> str:
    return operation.definition.raw.get("operationId") or operation.label


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--examples", type=int, default=1000, help="generated requests per operation")
    args = parser.parse_args()
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as scratch:
        app = build_app(Path(scratch))
        ours = schemathesis.openapi.from_asgi("/api/openapi.json", app)
        compat = schemathesis.openapi.from_path(COMPAT_SPEC)
        compat.app = app

        def compat_excluded(case) -> list:
            checks = [positive_data_acceptance]
            if (case.query or {}).get("format") == "csv":
                checks.append(content_type_conformance)  # the spec offers csv but declares only JSON for 200
            return checks

        rows, problems = [], []
        for label, schema, excluded in (("ours (/api)", ours, lambda case: [positive_data_acceptance]),
                                        ("compatible (/api/v2)", compat, compat_excluded)):
            for result in schema.get_all_operations():
                operation = result.ok()
                if operation.method.upper() != "GET":
                    continue
                began = time.monotonic()
                ran, statuses, failures = fuzz_operation(operation, args.examples, excluded)
                name = operation_name(operation)
                rows.append(f"| {label} | {name} | {ran} | {', '.join(f'{k}: {v}' for k, v in sorted(statuses.items()))} "
                            f"| {len(failures)} | {time.monotonic() - began:.0f} |")
                problems += [f"- **{name}**: {failure}" for failure in failures]
                print(rows[-1], flush=True)
    text = f"""# schemathesis against both APIs, {args.examples} examples per operation

{machine_markdown()}

Command: `.venv/bin/python bench/load_schemathesis.py --examples {args.examples}` ({time.monotonic() - started:.0f} s;
load average at the end {load_average()}). The whole app (middleware, website and both APIs) over the shared v2
studies and the AACT legacy XML fixtures; every response must be < 500 and match its document.

| API | operation | requests | statuses | distinct failures | seconds |
|---|---|---|---|---|---|
{chr(10).join(rows)}

## Failures

{chr(10).join(problems) if problems else "None."}
"""
    output = RESULTS_DIR / "load_schemathesis.md"
    output.write_text(text)
    print(f"results: {output}")


if __name__ == "__main__":
    main()
