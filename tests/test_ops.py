"""What an operator relies on, through the ASGI app: /healthz, /readyz, /metrics, JSON access logs with request
ids, per-client rate limits (X-Forwarded-For only from trusted proxies) and the request body size limit."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from trialfinder.api.limits import (
    BodySizeLimitMiddleware,
    LimitsConfig,
    Rate,
    TokenBuckets,
    client_address,
    parse_networks,
    parse_rate,
)
from trialfinder.config import load_settings
from trialfinder.logging_setup import ACCESS_LOGGER, JsonFormatter, new_request_id
from trialfinder.server import Services, create_app, follow_interval_from_env, refresh_from_store
from trialfinder.store import Store

SOME_STUDY = "NCT03475563"


@pytest.fixture(scope="module")
def ops_data_dir(shared_data: Path, tmp_path_factory) -> Path:
    """A data dir with the shared v2 JSON studies in SQLite and a built search index."""
    from trialfinder.index import build_index
    from trialfinder.ingest import ingest_paths

    directory = tmp_path_factory.mktemp("ops-data")
    settings = load_settings(data_dir=directory)
    store = Store.open(settings.database_url)
    ingest_paths(store, [shared_data / "ctgov" / "v2_json"])
    build_index(settings, store)
    store.close()
    return directory


def app_client(data_dir: Path, **options) -> TestClient:
    """A client of the whole app as `trialfinder serve` builds it (the lifespan opens the services)."""
    options.setdefault("follow_interval", 0)
    options.setdefault("limits", LimitsConfig())
    client = options.pop("client", ("127.0.0.1", 50000))
    return TestClient(create_app(load_settings(data_dir=data_dir), **options), client=client)


@pytest.fixture
def client(ops_data_dir: Path):
    with app_client(ops_data_dir) as opened:
        yield opened


# health and readiness ---------------------------------------------------------------------------------------


def test_healthz_answers_while_the_process_lives(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert response.headers["cache-control"] == "no-store"


def test_readyz_reports_store_and_index_when_fresh(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ready" and body["reasons"] == []
    assert body["store_reachable"] and body["index_present"]
    assert body["lag"] == 0 and body["change_counter"] == body["index_seq"] > 0


def test_readyz_is_503_while_starting(ops_data_dir: Path):
    app = create_app(load_settings(data_dir=ops_data_dir), follow_interval=0, limits=LimitsConfig())
    response = TestClient(app).get("/readyz")  # no `with`: the lifespan has not opened the services
    assert response.status_code == 503
    assert "starting" in response.json()["reasons"][0]


def test_readyz_is_503_when_the_index_lags_and_ready_again_after_a_refresh(ops_data_dir: Path, shared_data: Path,
                                                                            tmp_path: Path):
    from trialfinder.ingest import ingest_paths

    with app_client(ops_data_dir, ready_max_lag=0) as client:
        services: Services = client.app.state.services
        record = json.loads(services.store.raw(SOME_STUDY))
        status = record["protocolSection"]["statusModule"]
        status["lastUpdatePostDateStruct"] = {"date": "2099-01-01", "type": "ACTUAL"}
        newer = tmp_path / "newer.json"
        newer.write_text(json.dumps(record))
        ingest_paths(services.store, [newer])

        lagging = client.get("/readyz")
        assert lagging.status_code == 503
        body = lagging.json()
        assert body["lag"] == 1 and "1 changes behind the store" in body["reasons"][0]

        assert refresh_from_store(services) == 1
        assert client.get("/readyz").status_code == 200


class _UnreachableStore:
    def change_counter(self) -> int:
        raise sa.exc.OperationalError("SELECT max(seq)", {}, Exception("connection refused"))


class _NoIndexEngine:
    meta = None


def test_readyz_names_an_unreachable_store_and_a_missing_index(tmp_path: Path):
    settings = load_settings(data_dir=tmp_path)
    services = Services(settings=settings, store=_UnreachableStore(), engine=_NoIndexEngine())
    app = create_app(settings, services, follow_interval=0, limits=LimitsConfig())
    with TestClient(app) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    reasons = response.json()["reasons"]
    assert any(reason.startswith("store unreachable") and "connection refused" in reason for reason in reasons)
    assert any(reason.startswith("no search index") for reason in reasons)


def test_follow_interval_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("TRIALFINDER_FOLLOW_INTERVAL", "2.5")
    assert follow_interval_from_env() == 2.5
    monkeypatch.setenv("TRIALFINDER_FOLLOW_INTERVAL", "0")
    assert follow_interval_from_env() is None
    monkeypatch.setenv("TRIALFINDER_FOLLOW_INTERVAL", "soon")
    with pytest.raises(ValueError, match="TRIALFINDER_FOLLOW_INTERVAL"):
        follow_interval_from_env()


# metrics ----------------------------------------------------------------------------------------------------


def metric_value(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample in Prometheus text format, or None when it is absent."""
    wanted = ",".join(f'{key}="{value}"' for key, value in labels.items())
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        series, _, value = line.rpartition(" ")
        if series == name or (wanted and series.startswith(name + "{") and all(
                f'{key}="{value_}"' in series for key, value_ in labels.items())):
            return float(value)
    return None


def test_metrics_report_latency_by_route_template_search_time_and_index_lag(client):
    for nct_id in (SOME_STUDY, "NCT05594173", "NCT00000000"):
        client.get(f"/api/studies/{nct_id}")
    client.get("/api/search", params={"q": "asthma"})
    client.get("/search", params={"q": "asthma"})
    client.get("/no/such/page")
    response = client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    text = response.text
    count = "trialfinder_http_request_duration_seconds_count"
    assert metric_value(text, count, route="/api/studies/{nct_id}", status="200") == 2
    assert metric_value(text, count, route="/api/studies/{nct_id}", status="404") == 1
    assert metric_value(text, count, route="/search", status="200") == 1
    assert metric_value(text, count, route="<unmatched>", status="404") == 1
    assert "NCT03475563" not in text, "one series per route template, not per URL"
    assert metric_value(text, "trialfinder_search_duration_seconds_count") >= 2
    assert metric_value(text, "trialfinder_index_lag") == 0
    assert metric_value(text, "trialfinder_index_seq") == metric_value(text, "trialfinder_store_change_seq") > 0
    assert metric_value(text, "trialfinder_store_up") == 1


def test_metrics_read_sync_results_from_the_store(ops_data_dir: Path):
    with app_client(ops_data_dir) as client:
        store: Store = client.app.state.services.store
        before = client.get("/metrics").text
        runs_before = metric_value(before, "trialfinder_sync_runs_total", state="failed") or 0
        added_before = metric_value(before, "trialfinder_sync_studies_total", outcome="added") or 0
        succeeded = store.start_sync_run({"ops-test": 1}, None)
        store.update_sync_run(succeeded, state="succeeded", added=7, updated=2, pages=3,
                              finished_at="2025-01-02T03:04:05+00:00")
        failed = store.start_sync_run({"ops-test": 2}, None)
        store.update_sync_run(failed, state="failed", added=1, error="HTTP 503")
        text = client.get("/metrics").text
    assert metric_value(text, "trialfinder_sync_runs_total", state="failed") == runs_before + 1
    assert metric_value(text, "trialfinder_sync_studies_total", outcome="added") == added_before + 8
    assert metric_value(text, "trialfinder_sync_last_success_timestamp_seconds") is not None


# logs -------------------------------------------------------------------------------------------------------


def test_every_request_logs_one_json_line_with_its_request_id(client, caplog):
    with caplog.at_level(logging.INFO, logger=ACCESS_LOGGER):
        response = client.get(f"/api/studies/{SOME_STUDY}", headers={"X-Request-ID": "lb-7f3a.42"})
    assert response.headers["x-request-id"] == "lb-7f3a.42"
    (record,) = [r for r in caplog.records if r.name == ACCESS_LOGGER]
    line = json.loads(JsonFormatter().format(record))
    assert line["event"] == "request" and line["level"] == "info"
    assert line["request_id"] == "lb-7f3a.42" and line["path"] == f"/api/studies/{SOME_STUDY}"
    assert line["status"] == 200 and line["method"] == "GET" and line["duration_ms"] >= 0
    assert line["time"].endswith("+00:00") and line["client"] == "127.0.0.1"


def test_a_hostile_request_id_is_replaced():
    assert new_request_id('x"\n{"level": "error"}') != 'x"\n{"level": "error"}'
    assert len(new_request_id("a" * 500)) == 32
    assert new_request_id("abc-123") == "abc-123"


def test_json_formatter_keeps_extras_and_exceptions():
    try:
        raise RuntimeError("disk full")
    except RuntimeError:
        import sys

        record = logging.LogRecord("trialfinder.x", logging.ERROR, __file__, 1, "sync failed", (), sys.exc_info())
    record.pages = 3
    line = json.loads(JsonFormatter().format(record))
    assert line["event"] == "sync failed" and line["level"] == "error" and line["pages"] == 3
    assert "RuntimeError: disk full" in line["exception"]


# rate limits ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("120/minute", Rate(120, 60)), ("10/second", Rate(10, 1)), ("5000/hour", Rate(5000, 3600)),
    ("30/10s", Rate(30, 10)), ("100 per minute", Rate(100, 60)), ("2/min", Rate(2, 60)), ("7/days", Rate(7, 86400)),
    ("off", None), ("", None), (None, None), ("0", None),
])
def test_rate_syntax(text, expected):
    assert parse_rate(text) == expected


@pytest.mark.parametrize("text", ["fast", "120", "120/fortnight", "-1/minute", "1/0s"])
def test_bad_rate_is_refused_with_the_expected_shape(text):
    with pytest.raises(ValueError, match="120/minute"):
        parse_rate(text)


def test_limits_config_reads_the_environment():
    config = LimitsConfig.from_env({"TRIALFINDER_RATE_LIMIT": "60/minute", "TRIALFINDER_TRUSTED_PROXIES": "10.0.0.0/8",
                                    "TRIALFINDER_MAX_BODY_BYTES": "2048"})
    assert config.api_rate == Rate(60, 60) and config.web_rate is None and config.max_body_bytes == 2048
    assert LimitsConfig.from_env({}) == LimitsConfig()
    with pytest.raises(ValueError, match="TRIALFINDER_MAX_BODY_BYTES"):
        LimitsConfig.from_env({"TRIALFINDER_MAX_BODY_BYTES": "1MB"})
    with pytest.raises(ValueError, match="TRIALFINDER_TRUSTED_PROXIES"):
        LimitsConfig.from_env({"TRIALFINDER_TRUSTED_PROXIES": "proxy.local"})


def test_token_bucket_refills_at_the_configured_rate():
    now = [0.0]
    buckets = TokenBuckets(Rate(2, 10), clock=lambda: now[0])
    assert buckets.take("a")[0] and buckets.take("a")[0]
    allowed, _, wait = buckets.take("a")
    assert not allowed and wait == pytest.approx(5.0)
    assert buckets.take("b")[0], "each client has its own bucket"
    now[0] = 5.0
    assert buckets.take("a")[0] and not buckets.take("a")[0]


def test_token_buckets_forget_the_oldest_clients_beyond_the_bound():
    buckets = TokenBuckets(Rate(1, 60), clock=lambda: 0.0, max_keys=3)
    for key in "abcd":
        buckets.take(key)
    assert buckets.take("a")[0], "a was dropped, so it starts with a full bucket again"
    assert not buckets.take("d")[0]


def test_api_rate_limit_answers_429_with_retry_after(ops_data_dir: Path):
    with app_client(ops_data_dir, limits=LimitsConfig(api_rate=parse_rate("3/minute"))) as client:
        answers = [client.get("/api/stats") for _ in range(3)]
        assert all(answer.status_code == 200 for answer in answers)
        assert [answer.headers["ratelimit-remaining"] for answer in answers] == ["2", "1", "0"]
        refused = client.get(f"/api/studies/{SOME_STUDY}")
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["retry-after"]) <= 20
        assert "too many requests" in refused.json()["error"]["message"]
        assert client.get("/api/v2/version").status_code == 429, "the compatible API shares the bucket"
        # The website, the probes and the scrape are not limited by the API's setting.
        assert client.get("/").status_code == 200
        assert client.get("/healthz").status_code == 200 and client.get("/readyz").status_code == 200
        assert client.get("/metrics").status_code == 200


def test_website_limit_is_separate_and_off_by_default(ops_data_dir: Path):
    limits = LimitsConfig(api_rate=parse_rate("1/minute"), web_rate=parse_rate("2/minute"))
    with app_client(ops_data_dir, limits=limits) as client:
        assert client.get("/api/stats").status_code == 200
        assert client.get("/").status_code == 200 and client.get("/").status_code == 200
        assert client.get("/").status_code == 429
        assert client.get("/healthz").status_code == 200


def test_forwarded_for_is_honoured_only_from_trusted_proxies(ops_data_dir: Path):
    limits = LimitsConfig(api_rate=parse_rate("1/minute"), trusted_proxies=tuple(parse_networks("10.0.0.0/8")))
    with app_client(ops_data_dir, limits=limits, client=("10.1.2.3", 40000)) as via_proxy:
        assert via_proxy.get("/api/stats", headers={"X-Forwarded-For": "203.0.113.5"}).status_code == 200
        assert via_proxy.get("/api/stats", headers={"X-Forwarded-For": "203.0.113.6"}).status_code == 200
        assert via_proxy.get("/api/stats", headers={"X-Forwarded-For": "203.0.113.5"}).status_code == 429
        # A client cannot escape its bucket by prepending a made-up hop: the proxy appends the real one.
        spoofed = via_proxy.get("/api/stats", headers={"X-Forwarded-For": "198.51.100.1, 203.0.113.6"})
        assert spoofed.status_code == 429
    with app_client(ops_data_dir, limits=limits, client=("192.0.2.9", 40000)) as direct:
        assert direct.get("/api/stats", headers={"X-Forwarded-For": "203.0.113.7"}).status_code == 200
        assert direct.get("/api/stats", headers={"X-Forwarded-For": "203.0.113.8"}).status_code == 429, \
            "an untrusted peer's X-Forwarded-For is ignored"


@pytest.mark.parametrize(("peer", "header", "expected"), [
    ("10.0.0.1", "1.2.3.4", "1.2.3.4"),
    ("10.0.0.1", "1.2.3.4, 10.0.0.2", "1.2.3.4"),
    ("10.0.0.1", "5.6.7.8, 1.2.3.4", "1.2.3.4"),
    ("10.0.0.1", "not-an-ip, 10.0.0.2", "10.0.0.2"),
    ("10.0.0.1", None, "10.0.0.1"),
    ("8.8.8.8", "1.2.3.4", "8.8.8.8"),
    ("10.0.0.1", "2001:db8::1", "2001:db8::1"),
])
def test_client_address(peer, header, expected):
    headers = [(b"x-forwarded-for", header.encode())] if header else []
    scope = {"client": (peer, 1), "headers": headers}
    assert client_address(scope, parse_networks("10.0.0.0/8")) == expected


# request size -----------------------------------------------------------------------------------------------


def test_oversized_body_is_refused_with_413(ops_data_dir: Path):
    with app_client(ops_data_dir, limits=LimitsConfig(max_body_bytes=1000)) as client:
        refused = client.post("/api/search", content=b"x" * 1001)
        assert refused.status_code == 413 and "larger than 1000 bytes" in refused.json()["error"]["message"]
        assert client.post("/api/search", content=b"x" * 10).status_code == 405, "small bodies reach the app"
        assert client.get("/api/stats").status_code == 200


def test_default_body_limit_is_one_mebibyte(client):
    assert client.post("/api/search", content=b"x" * (1024 * 1024 + 1)).status_code == 413


async def _echo_body(scope, receive, send) -> None:
    body = b""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise RuntimeError("client went away")
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": str(len(body)).encode()})


def test_streamed_body_without_length_is_cut_off_at_the_limit():
    client = TestClient(BodySizeLimitMiddleware(_echo_body, max_bytes=100))

    def chunks(count: int):
        for _ in range(count):
            yield b"y" * 30

    assert client.post("/", content=chunks(3)).text == "90"
    refused = client.post("/", content=chunks(5))
    assert refused.status_code == 413


def test_bad_content_length_is_a_400():
    client = TestClient(BodySizeLimitMiddleware(_echo_body, max_bytes=100))
    assert client.post("/", content=b"abc", headers={"content-length": "lots"}).status_code == 400


def test_nul_bytes_in_the_url_are_refused_in_each_api_s_error_shape(client):
    ours = client.get("/api/search", params={"q": "a\x00b"})
    assert ours.status_code == 400 and "NUL" in ours.json()["error"]["message"]
    compat = client.get("/api/v2/studies", params={"query.term": "\x00"})
    assert compat.status_code == 400 and compat.headers["content-type"].startswith("text/plain")
    assert client.get("/study/NCT0%00").status_code == 400
    assert client.get("/search", params={"q": "%00 is fine when escaped"}).status_code == 200


@pytest.mark.parametrize(("variable", "value"), [("TRIALFINDER_RATE_LIMIT", "fast"),
                                                 ("TRIALFINDER_TRUSTED_PROXIES", "proxy.local"),
                                                 ("TRIALFINDER_MAX_BODY_BYTES", "1MB"),
                                                 ("TRIALFINDER_READY_MAX_LAG", "lots")])
def test_serve_refuses_a_bad_setting_before_starting(tmp_path: Path, monkeypatch, variable, value):
    from typer.testing import CliRunner

    from trialfinder.cli.main import app

    monkeypatch.setenv(variable, value)
    result = CliRunner().invoke(app, ["--data-dir", str(tmp_path), "serve", "--port", "1"])
    assert result.exit_code == 1
    assert variable in result.output


def test_follower_keeps_going_through_failures_and_logs_each_outage_once(tmp_path: Path, caplog, monkeypatch):
    import asyncio

    import trialfinder.server as server

    outcomes = iter([RuntimeError("store down"), RuntimeError("store down"), RuntimeError("store down"), 3, 0])

    def refresh(_services) -> int:
        outcome = next(outcomes, 0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    monkeypatch.setattr(server, "refresh_from_store", refresh)

    async def follow_briefly() -> None:
        task = asyncio.create_task(server.follow_store(None, 0.01))
        await asyncio.sleep(0.3)
        task.cancel()

    with caplog.at_level(logging.INFO, logger="trialfinder.server"):
        asyncio.run(follow_briefly())
    events = [record.getMessage() for record in caplog.records if record.name == "trialfinder.server"]
    assert events[:3] == ["index follow failed", "index follow recovered", "index refreshed"]
    assert events.count("index follow failed") == 1
