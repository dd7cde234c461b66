"""Search latency: the tantivy engine against SQLite FTS5 (bm25) and PostgreSQL full-text search, same queries.

Run by hand (not a test). It takes any store: an existing data dir, or it ingests the given inputs first.

    .venv/bin/trialfinder --data-dir /tmp/tf-search-bench/data ingest /tmp/trialfinder-corpus/corpus-100k.jsonl
    .venv/bin/python bench/search_bench.py --data-dir /tmp/tf-search-bench/data

Four kinds of query, 50 each (200 in all), drawn from the corpus's own conditions: keywords; keywords + status +
age; condition + distance from a city; keywords with facets. Each engine answers with the top 10 and the total.
"""

from __future__ import annotations

import argparse
import random
import shlex
import sqlite3
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ResultTable, machine_markdown, write_result  # noqa: E402

from trialfinder.config import load_settings  # noqa: E402
from trialfinder.geo import bounding_box, resolve_place  # noqa: E402
from trialfinder.index import build_index  # noqa: E402
from trialfinder.model import decode_study  # noqa: E402
from trialfinder.search import Near, SearchEngine, SearchRequest  # noqa: E402
from trialfinder.store import Store  # noqa: E402

CITIES = ["Boston, MA", "New York", "Houston", "Chicago", "Los Angeles", "Seattle", "Paris", "London", "Berlin",
          "Toronto", "Madrid", "Milan", "Beijing", "Shanghai", "Seoul", "Tokyo", "Sydney", "Sao Paulo", "Cairo",
          "Rochester, MN"]
RADIUS_KM = 80.4672
AGES = [8, 25, 45, 67]
KINDS = ("keywords", "keywords+status+age", "condition+distance", "keywords+facets")
HAVERSINE_SQL = ("2 * 6371.0088 * asin(sqrt(power(sin(radians(lat - :lat) / 2), 2) + cos(radians(:lat)) * "
                 "cos(radians(lat)) * power(sin(radians(lon - :lon) / 2), 2)))")


def make_queries(store: Store, count: int, seed: int) -> list[dict]:
    """count realistic queries: conditions of randomly chosen studies, with the filters of each kind."""
    rng = random.Random(seed)
    ids = store.nct_ids()
    places = [(city, resolve_place(city)) for city in CITIES]
    queries: list[dict] = []
    while len(queries) < count:
        raws = store.raws(rng.sample(ids, 50))
        for raw in raws.values():
            conditions = decode_study(raw).conditions.conditions
            if not conditions or len(conditions[0]) > 60:
                continue
            words = " ".join(conditions[0].replace(",", " ").replace("(", " ").replace(")", " ").split()[:4])
            kind = KINDS[len(queries) % len(KINDS)]
            query = {"kind": kind, "text": words}
            if kind == "keywords+status+age":
                query |= {"status": "RECRUITING", "age": rng.choice(AGES)}
            if kind == "condition+distance":
                city, place = rng.choice(places)
                query |= {"lat": place.lat, "lon": place.lon, "place": city}
            queries.append(query)
            if len(queries) == count:
                break
    return queries


def tantivy_runner(engine: SearchEngine):
    def run(query: dict) -> int:
        request = SearchRequest(limit=10)
        if query["kind"] == "condition+distance":
            request.condition = query["text"]
            request.near = Near(query["lat"], query["lon"], RADIUS_KM)
        else:
            request.query = query["text"]
        if "status" in query:
            request.statuses, request.age = [query["status"]], query["age"]
        request.facets = query["kind"] == "keywords+facets"
        return engine.search(request).total
    return run


# SQLite FTS5 --------------------------------------------------------------------------------------------------


def build_fts5(store_path: Path, fts_path: Path, store: Store) -> float:
    """An FTS5 table of the searchable text, in its own file attached beside the store; build seconds."""
    started = time.perf_counter()
    fts_path.unlink(missing_ok=True)
    db = sqlite3.connect(fts_path)
    db.execute("CREATE VIRTUAL TABLE fts USING fts5(nct_id UNINDEXED, title, conditions, interventions, summary, "
               "description, eligibility, tokenize='porter unicode61')")
    batch = []
    for nct_id, raw in store.iter_raw():
        s = decode_study(raw)
        batch.append((nct_id, " ".join(filter(None, [s.identification.acronym, s.identification.brief_title,
                                                     s.identification.official_title])),
                      " ".join(s.conditions.conditions + s.conditions.keywords + s.mesh_terms("condition")),
                      " ".join(i.name or "" for i in s.arms_interventions.interventions),
                      s.description.brief_summary or "", s.description.detailed_description or "",
                      s.eligibility.eligibility_criteria or ""))
        if len(batch) >= 5000:
            db.executemany("INSERT INTO fts VALUES (?,?,?,?,?,?,?)", batch)
            batch.clear()
    db.executemany("INSERT INTO fts VALUES (?,?,?,?,?,?,?)", batch)
    db.commit()
    db.close()
    return time.perf_counter() - started


def fts5_runner(store_path: Path, fts_path: Path):
    db = sqlite3.connect(store_path)
    db.execute(f"ATTACH DATABASE '{fts_path}' AS f")

    def run(query: dict) -> int:
        match = " ".join(f'"{word}"' for word in query["text"].replace('"', " ").split())
        where, params = ["fts MATCH :match"], {"match": match}
        if "status" in query:
            where += ["s.overall_status = :status", "(s.min_age_years IS NULL OR s.min_age_years <= :age)",
                      "(s.max_age_years IS NULL OR s.max_age_years >= :age)"]
            params |= {"status": query["status"], "age": query["age"]}
        if query["kind"] == "condition+distance":
            clause, near = sites_within_radius(query, "s.nct_id")
            where.append(clause)
            params |= near
        body = f"FROM f.fts AS fts JOIN studies s ON s.nct_id = fts.nct_id WHERE {' AND '.join(where)}"
        db.execute(f"SELECT s.nct_id, bm25(fts, 0, 4, 4, 2, 1, 0.4, 0.3) AS rank {body} ORDER BY rank LIMIT 10",
                   params).fetchall()
        total = db.execute(f"SELECT count(*) {body}", params).fetchone()[0]
        if query["kind"] == "keywords+facets":
            for column in ("overall_status", "study_type", "funder_type", "sex"):
                db.execute(f"SELECT s.{column}, count(*) {body} GROUP BY s.{column}", params).fetchall()
        return total
    return run


# PostgreSQL full-text search -----------------------------------------------------------------------------------


def build_postgres(admin_url: str, store: Store) -> tuple[object, float]:
    """A fresh database with a weighted tsvector per study (GIN index) and the sites; (engine, build seconds)."""
    import sqlalchemy as sa

    name = "tf_search_bench"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    engine = sa.create_engine(admin_url.rsplit("/", 1)[0] + "/" + name)
    started = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE docs (nct_id text PRIMARY KEY, status text, study_type text, "
                             "funder_type text, sex text, min_age float, max_age float, title text, conditions text, "
                             "body text, tsv tsvector)"))
        conn.execute(sa.text("CREATE TABLE sites (nct_id text, lat float, lon float)"))
    raw_conn = engine.raw_connection()
    with raw_conn.cursor() as cursor:
        with cursor.copy("COPY docs (nct_id, status, study_type, funder_type, sex, min_age, max_age, title, "
                         "conditions, body) FROM STDIN") as copy:
            for nct_id, raw in store.iter_raw():
                s = decode_study(raw)
                from trialfinder.model import age_in_years
                from trialfinder.model.labels import funder_type

                copy.write_row((nct_id, s.overall_status, s.design.study_type, funder_type(s.lead_sponsor_class),
                                s.eligibility.sex, age_in_years(s.eligibility.minimum_age),
                                age_in_years(s.eligibility.maximum_age),
                                " ".join(filter(None, [s.identification.acronym, s.title])),
                                " ".join(s.conditions.conditions + s.conditions.keywords + s.mesh_terms("condition")),
                                " ".join(filter(None, [s.description.brief_summary,
                                                       s.description.detailed_description,
                                                       s.eligibility.eligibility_criteria]))))
        with cursor.copy("COPY sites (nct_id, lat, lon) FROM STDIN") as copy:
            with store.engine.connect() as conn:
                for row in conn.execute(sa.text("SELECT nct_id, lat, lon FROM sites WHERE lat IS NOT NULL")):
                    copy.write_row(tuple(row))
    raw_conn.commit()
    raw_conn.close()
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE docs SET tsv = setweight(to_tsvector('english', coalesce(title,'')), 'A') || "
                             "setweight(to_tsvector('english', coalesce(conditions,'')), 'A') || "
                             "setweight(to_tsvector('english', coalesce(body,'')), 'C')"))
        conn.execute(sa.text("CREATE INDEX docs_tsv ON docs USING gin (tsv)"))
        conn.execute(sa.text("CREATE INDEX sites_geo ON sites (lat, lon)"))
        conn.execute(sa.text("ANALYZE"))
    return engine, time.perf_counter() - started


def postgres_runner(engine):
    import sqlalchemy as sa

    def run(query: dict) -> int:
        where, params = ["tsv @@ plainto_tsquery('english', :q)"], {"q": query["text"]}
        if "status" in query:
            where += ["status = :status", "(min_age IS NULL OR min_age <= :age)", "(max_age IS NULL OR max_age >= :age)"]
            params |= {"status": query["status"], "age": query["age"]}
        if query["kind"] == "condition+distance":
            clause, near = sites_within_radius(query, "nct_id")
            where.append(clause)
            params |= near
        body = f"FROM docs WHERE {' AND '.join(where)}"
        with engine.connect() as conn:
            conn.execute(sa.text(f"SELECT nct_id, ts_rank_cd(tsv, plainto_tsquery('english', :q)) AS rank {body} "
                                 "ORDER BY rank DESC LIMIT 10"), params).fetchall()
            total = conn.execute(sa.text(f"SELECT count(*) {body}"), params).scalar_one()
            if query["kind"] == "keywords+facets":
                for column in ("status", "study_type", "funder_type", "sex"):
                    conn.execute(sa.text(f"SELECT {column}, count(*) {body} GROUP BY {column}"), params).fetchall()
        return total
    return run


# measuring ----------------------------------------------------------------------------------------------------


def measure(run, queries: list[dict]) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """Wall-clock and CPU (this process) milliseconds per query by kind, after an untimed warm-up over the first 20.

    CPU time is what a shared machine cannot inflate; for the database baselines it leaves out the server's work.
    """
    for query in queries[:20]:
        run(query)
    times: dict[str, list[float]] = {kind: [] for kind in KINDS}
    cpu: dict[str, list[float]] = {kind: [] for kind in KINDS}
    for query in queries:
        started, started_cpu = time.perf_counter(), time.process_time()
        run(query)
        times[query["kind"]].append((time.perf_counter() - started) * 1000)
        cpu[query["kind"]].append((time.process_time() - started_cpu) * 1000)
    return times, cpu


def sites_within_radius(query: dict, id_column: str) -> tuple[str, dict]:
    """SQL condition (and its parameters) for a study with a site within RADIUS_KM of the query's point."""
    min_lat, max_lat, min_lon, max_lon = bounding_box(query["lat"], query["lon"], RADIUS_KM)
    clause = (f"{id_column} IN (SELECT nct_id FROM sites WHERE lat BETWEEN :a AND :b AND lon BETWEEN :c AND :d "
              f"AND {HAVERSINE_SQL} <= :r)")
    return clause, {"a": min_lat, "b": max_lat, "c": min_lon, "d": max_lon, "lat": query["lat"],
                    "lon": query["lon"], "r": RADIUS_KM}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def directory_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True, help="trialfinder data dir holding the store (SQLite)")
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
                        help="admin URL of a PostgreSQL server for the baseline, or 'none'")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-build", action="store_true", help="measure the existing index, do not rebuild")
    parser.add_argument("--no-baselines", action="store_true",
                        help="measure only the engine (a partial run: the FTS5 and PostgreSQL baselines are skipped)")
    args = parser.parse_args()
    settings = load_settings(args.data_dir)
    store = Store.open(settings.database_url)
    studies = store.count()
    builds = ResultTable(["engine", "build s", "size MiB"])
    if not args.skip_build:
        started = time.perf_counter()
        meta = build_index(settings, store)
        generation = settings.index_dir / meta.generation
        builds.add("tantivy (incl. synonym mining, site arrays)", f"{time.perf_counter() - started:.1f}",
                   f"{directory_size(generation) / 2**20:.0f}")
    engine = SearchEngine.open(settings, store)
    queries = make_queries(store, args.queries, args.seed)
    latency = ResultTable(["engine"] + [f"{kind} p50 / p99 ms" for kind in KINDS] + ["all p50 / p99 ms"])

    def report(name: str, run) -> None:
        times, cpu = measure(run, queries)
        rows = [(name, times)] + ([(f"{name}, CPU time", cpu)] if name.startswith("tantivy") else [])
        for label, values in rows:
            every = [t for kind_values in values.values() for t in kind_values]
            latency.add(label, *[f"{percentile(values[k], .5):.1f} / {percentile(values[k], .99):.1f}" for k in KINDS],
                        f"{percentile(every, .5):.1f} / {percentile(every, .99):.1f}")
            print(label, {k: round(statistics.median(v), 2) for k, v in values.items()}, flush=True)

    # Each engine is measured before the next baseline is built: at 600k studies the baselines write 4-10 GB,
    # which pushed the tantivy index out of the page cache when every build came first (p50 8-9 ms quiet, 10.6-11
    # ms measured after the builds).
    report("tantivy (trialfinder)", tantivy_runner(engine))
    if not args.no_baselines:
        store_path = Path(settings.database_url[len("sqlite:///"):])
        fts_path = store_path.with_name("bench-fts5.sqlite3")
        seconds = build_fts5(store_path, fts_path, store)
        builds.add("SQLite FTS5", f"{seconds:.1f}", f"{fts_path.stat().st_size / 2**20:.0f}")
        report("SQLite FTS5 bm25", fts5_runner(store_path, fts_path))
    if args.postgres != "none" and not args.no_baselines:
        pg_engine, seconds = build_postgres(args.postgres, store)
        builds.add("PostgreSQL tsvector + GIN", f"{seconds:.1f}", "(in server)")
        report("PostgreSQL ts_rank_cd", postgres_runner(pg_engine))
    command = ".venv/bin/python bench/search_bench.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    path = write_result("search", [
        ("Setup", f"{studies:,} studies in the store ({args.data_dir}); {len(queries)} queries, 50 per kind, "
                  f"seed {args.seed}; top 10 + total per query; distance radius 50 miles.\n\nCommand: `{command}`"),
        ("Machine", machine_markdown()),
        ("Build", builds.markdown()),
        ("Latency", latency.markdown()),
    ], title="Search benchmark", keep_earlier=True)
    print(f"results: {path}")


if __name__ == "__main__":
    main()
