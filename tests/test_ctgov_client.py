"""CtgovClient against an in-memory registry of real API v2 records: paging, params, retries, rate limit."""

from __future__ import annotations

import datetime as dt
import email.utils
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import httpx
import pytest
import stamina
from fake_ctgov import FakeClock, FakeRegistry, load_v2_studies

from trialfinder.ctgov import (
    CtgovClient,
    CtgovError,
    StudyNotFound,
    TransientCtgovError,
    registry_reachable,
    since_query,
    status_filter,
)


@pytest.fixture(autouse=True)
def no_retry_backoff() -> Iterator[None]:
    """stamina's exponential backoff off; each client's own max_attempts still applies."""
    with stamina.set_testing(True, attempts=1000, cap=True):
        yield


@pytest.fixture(scope="module")
def studies(shared_data: Path) -> list[dict[str, Any]]:
    records = load_v2_studies(shared_data / "ctgov" / "v2_json")
    assert len(records) >= 500
    return records


def _nct_ids(records: list[dict[str, Any]]) -> list[str]:
    return [r["protocolSection"]["identificationModule"]["nctId"] for r in records]


def _client(registry: FakeRegistry, clock: FakeClock | None = None, **options: Any) -> CtgovClient:
    clock = clock or FakeClock()
    return CtgovClient(transport=registry.transport(clock), clock=clock, sleep=clock.sleep, **options)


# paging and parameters --------------------------------------------------------------------------------------


def test_every_record_is_retrieved_exactly_once_over_several_pages(studies: list[dict[str, Any]]) -> None:
    registry = FakeRegistry(studies, page_size=100)
    with _client(registry) as client:
        pages = list(client.iter_pages({}))

    retrieved = [study for page in pages for study in page.studies]
    assert len(pages) == -(-len(studies) // 100)
    assert sorted(_nct_ids(retrieved)) == sorted(_nct_ids(studies))
    assert len(set(_nct_ids(retrieved))) == len(retrieved)
    assert retrieved == studies  # raw dicts, verbatim
    assert pages[0].total_count == len(studies)
    assert all(page.total_count is None for page in pages[1:])
    assert pages[-1].next_page_token is None

    first, *rest = registry.requests
    assert first.url.params["countTotal"] == "true" and "pageToken" not in first.url.params
    assert all("countTotal" not in r.url.params and r.url.params["pageToken"] for r in rest)
    assert all(
        r.url.path == "/api/v2/studies" and r.url.params["format"] == "json" for r in registry.requests
    )
    assert all(r.url.params["pageSize"] == "1000" for r in registry.requests)
    assert registry.requests[0].headers["User-Agent"].startswith("trialfinder/")


def test_query_params_are_forwarded_on_every_page(studies: list[dict[str, Any]]) -> None:
    registry = FakeRegistry(studies, page_size=1000)
    params = {
        "query.term": since_query(dt.date(2024, 1, 1)),
        "filter.overallStatus": status_filter(["RECRUITING", "NOT_YET_RECRUITING"]),
    }
    expected = registry.matching(params)
    assert 30 < len(expected) < len(studies)  # the filter really narrows the real records

    with _client(registry, page_size=25) as client:
        retrieved = [s for page in client.iter_pages(params) for s in page.studies]

    assert _nct_ids(retrieved) == _nct_ids(expected)
    assert len(registry.requests) == -(-len(expected) // 25)
    for request in registry.requests:
        assert request.url.params["pageSize"] == "25"
        assert request.url.params["query.term"] == "AREA[LastUpdatePostDate]RANGE[2024-01-01,MAX]"
        assert request.url.params["filter.overallStatus"] == "RECRUITING|NOT_YET_RECRUITING"


def test_page_size_is_capped_at_1000(studies: list[dict[str, Any]]) -> None:
    registry = FakeRegistry(studies[:5])
    with _client(registry, page_size=5000) as client:
        client.fetch_page({})
        client.fetch_page({"pageSize": 20})
        client.fetch_page({"pageSize": 999999})
    assert [r.url.params["pageSize"] for r in registry.requests] == ["1000", "20", "1000"]


def test_iteration_resumes_from_a_saved_token(studies: list[dict[str, Any]]) -> None:
    registry = FakeRegistry(studies, page_size=200)
    with _client(registry) as client:
        first = client.fetch_page({})
        rest = [s for page in client.iter_pages({}, start_token=first.next_page_token) for s in page.studies]
    assert _nct_ids(first.studies + rest) == _nct_ids(studies)
    assert "countTotal" not in registry.requests[1].url.params


def test_a_repeated_page_token_stops_iteration() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"studies": [], "nextPageToken": "same"})

    with (
        CtgovClient(transport=httpx.MockTransport(handler), requests_per_minute=0) as client,
        pytest.raises(CtgovError, match="pagination loop"),
    ):
        list(client.iter_pages({}))


def test_empty_result_is_one_empty_page() -> None:
    with _client(FakeRegistry([])) as client:
        pages = list(client.iter_pages({}))
    assert [(p.studies, p.next_page_token, p.total_count) for p in pages] == [([], None, 0)]


# retries ----------------------------------------------------------------------------------------------------


def test_429_is_retried_after_the_servers_retry_after(studies: list[dict[str, Any]]) -> None:
    registry = FakeRegistry(studies, failures=[FakeRegistry.too_many_requests(retry_after="7")])
    clock = FakeClock()
    with _client(registry, clock) as client:
        page = client.fetch_page({})
    assert len(page.studies) == 100
    assert len(registry.requests) == 2
    assert registry.request_times[1] - registry.request_times[0] == pytest.approx(7.0)


def test_429_retry_after_as_http_date(studies: list[dict[str, Any]]) -> None:
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30)
    registry = FakeRegistry(
        studies, failures=[FakeRegistry.too_many_requests(email.utils.format_datetime(later, usegmt=True))]
    )
    with _client(registry) as client:
        client.fetch_page({})
    assert 25 <= registry.request_times[1] - registry.request_times[0] <= 31


def test_an_absurd_retry_after_is_capped(studies: list[dict[str, Any]]) -> None:
    registry = FakeRegistry(studies, failures=[FakeRegistry.too_many_requests(retry_after="86400")])
    with _client(registry, max_retry_after=120) as client:
        client.fetch_page({})
    assert registry.request_times[1] - registry.request_times[0] == pytest.approx(120.0)


def test_429_without_retry_after_is_retried(studies: list[dict[str, Any]]) -> None:
    registry = FakeRegistry(studies, failures=[429, 429])
    with _client(registry) as client:
        assert client.fetch_page({}).studies
    assert len(registry.requests) == 3


def test_two_500s_then_success(studies: list[dict[str, Any]]) -> None:
    registry = FakeRegistry(studies, failures=[500, 500])
    with _client(registry) as client:
        page = client.fetch_page({})
    assert _nct_ids(page.studies) == _nct_ids(studies[:100])
    assert len(registry.requests) == 3


@pytest.mark.parametrize("failure", [httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadTimeout])
def test_dropped_connection_then_success(studies: list[dict[str, Any]], failure: type[Exception]) -> None:
    registry = FakeRegistry(studies, failures=[failure])
    with _client(registry) as client:
        assert (
            client.fetch_study("NCT00000410")["protocolSection"]["identificationModule"]["nctId"]
            == "NCT00000410"
        )
    assert len(registry.requests) == 2


def test_failures_in_the_middle_of_paging_lose_nothing(studies: list[dict[str, Any]]) -> None:
    registry = FakeRegistry(studies, page_size=100, failures=[None, 503, httpx.ConnectError, None, 502])
    with _client(registry) as client:
        retrieved = [s for page in client.iter_pages({}) for s in page.studies]
    assert _nct_ids(retrieved) == _nct_ids(studies)


def test_persistent_503_gives_up_after_max_attempts(studies: list[dict[str, Any]]) -> None:
    registry = FakeRegistry(studies, failures=[503] * 20)
    with _client(registry, max_attempts=4) as client, pytest.raises(CtgovError) as caught:
        client.fetch_page({})
    assert isinstance(caught.value, TransientCtgovError)
    assert caught.value.status == 503
    assert "scripted HTTP 503" in caught.value.body_excerpt
    assert len(registry.requests) == 4


def test_persistent_connection_failure_is_a_ctgov_error(studies: list[dict[str, Any]]) -> None:
    registry = FakeRegistry(studies, failures=[httpx.ConnectError] * 20)
    with (
        _client(registry, max_attempts=3) as client,
        pytest.raises(TransientCtgovError, match="ConnectError"),
    ):
        client.fetch_page({})
    assert len(registry.requests) == 3


def test_html_page_is_malformed_and_retried_a_bounded_number_of_times(studies: list[dict[str, Any]]) -> None:
    registry = FakeRegistry(studies, failures=[FakeRegistry.html_page()] * 20)
    with (
        _client(registry, max_attempts=3) as client,
        pytest.raises(CtgovError, match="malformed page") as caught,
    ):
        client.fetch_page({})
    assert "Service maintenance" in caught.value.body_excerpt
    assert len(registry.requests) == 3


def test_one_html_page_then_success(studies: list[dict[str, Any]]) -> None:
    registry = FakeRegistry(studies, failures=[FakeRegistry.html_page()])
    with _client(registry) as client:
        assert len(client.fetch_page({}).studies) == 100


def test_json_without_studies_fails_at_once() -> None:
    registry = FakeRegistry([], failures=[httpx.Response(200, json={"message": "moved"})])
    with _client(registry) as client, pytest.raises(CtgovError, match="malformed page"):
        client.fetch_page({})
    assert len(registry.requests) == 1


def test_400_fails_at_once_with_the_servers_message(studies: list[dict[str, Any]]) -> None:
    registry = FakeRegistry(studies)
    with _client(registry) as client, pytest.raises(CtgovError) as caught:
        client.fetch_page({"query.term": "cancer"})  # the fake answers 400 to terms it cannot evaluate
    assert not isinstance(caught.value, TransientCtgovError)
    assert caught.value.status == 400
    assert "LastUpdatePostDate" in caught.value.body_excerpt
    assert len(registry.requests) == 1


# single study -----------------------------------------------------------------------------------------------


def test_fetch_study_returns_the_raw_record(studies: list[dict[str, Any]]) -> None:
    registry = FakeRegistry(studies)
    wanted = studies[42]
    nct_id = wanted["protocolSection"]["identificationModule"]["nctId"]
    with _client(registry) as client:
        assert client.fetch_study(nct_id.lower()) == wanted
    assert registry.requests[0].url.path == f"/api/v2/studies/{nct_id}"


def test_unknown_study_is_study_not_found(studies: list[dict[str, Any]]) -> None:
    registry = FakeRegistry(studies)
    with _client(registry) as client, pytest.raises(StudyNotFound) as caught:
        client.fetch_study("NCT99999999")
    assert caught.value.nct_id == "NCT99999999"
    assert len(registry.requests) == 1  # a 404 is an answer, not a glitch: no retry


def test_redirects_are_followed(studies: list[dict[str, Any]]) -> None:
    registry = FakeRegistry(studies)

    def moved(request: httpx.Request) -> httpx.Response:
        if request.url.host == "old.example":
            return httpx.Response(301, headers={"Location": str(request.url.copy_with(host="new.example"))})
        return registry.handler(request)

    with CtgovClient("https://old.example/api/v2", transport=httpx.MockTransport(moved)) as client:
        assert (
            client.fetch_study("NCT00000410")["protocolSection"]["identificationModule"]["nctId"]
            == "NCT00000410"
        )


def test_fetch_study_rejects_a_non_nct_id() -> None:
    with (
        CtgovClient(transport=httpx.MockTransport(lambda r: httpx.Response(500))) as client,
        pytest.raises(ValueError),
    ):
        client.fetch_study("../studies")


# rate limiting ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("requests_per_minute", [50, 30, 120])
def test_requests_are_spaced_by_the_rate_limit(
    studies: list[dict[str, Any]], requests_per_minute: int
) -> None:
    registry = FakeRegistry(studies, page_size=50)
    clock = FakeClock()
    with _client(registry, clock, requests_per_minute=requests_per_minute) as client:
        pages = list(client.iter_pages({}))
    assert len(pages) >= 10
    gaps = [b - a for a, b in pairwise(registry.request_times)]
    assert min(gaps) >= 60 / requests_per_minute - 1e-9
    assert max(gaps) == pytest.approx(60 / requests_per_minute)  # and no slower than needed


def test_retries_are_rate_limited_too(studies: list[dict[str, Any]]) -> None:
    registry = FakeRegistry(studies, failures=[500, 500])
    with _client(registry, requests_per_minute=60) as client:
        client.fetch_page({})
    gaps = [b - a for a, b in pairwise(registry.request_times)]
    assert gaps == [pytest.approx(1.0), pytest.approx(1.0)]


def test_time_already_elapsed_counts_towards_the_spacing(studies: list[dict[str, Any]]) -> None:
    registry = FakeRegistry(studies)
    clock = FakeClock()
    with _client(registry, clock, requests_per_minute=30) as client:
        client.fetch_page({})
        clock.now += 1.5  # the caller spent 1.5 s storing the page
        client.fetch_page({})
    assert clock.sleeps == [pytest.approx(0.5)]


def test_no_limit_means_no_waiting(studies: list[dict[str, Any]]) -> None:
    clock = FakeClock()
    with _client(FakeRegistry(studies, page_size=100), clock, requests_per_minute=0) as client:
        list(client.iter_pages({}))
    assert clock.sleeps == []


# query helpers ----------------------------------------------------------------------------------------------


def test_since_query() -> None:
    expected = "AREA[LastUpdatePostDate]RANGE[2024-01-15,MAX]"
    assert since_query(dt.date(2024, 1, 15)) == expected
    assert since_query(dt.datetime(2024, 1, 15, 23, 59)) == expected
    assert since_query("2024-01-15") == expected
    with pytest.raises(ValueError):
        since_query("15/01/2024")


def test_status_filter() -> None:
    assert status_filter(["RECRUITING", " not_yet_recruiting "]) == "RECRUITING|NOT_YET_RECRUITING"
    with pytest.raises(ValueError):
        status_filter([])
    with pytest.raises(ValueError):
        status_filter(["Active, not recruiting"])


# reachability -----------------------------------------------------------------------------------------------


def test_registry_reachable_and_version(studies: list[dict[str, Any]]) -> None:
    registry = FakeRegistry(studies)
    with _client(registry) as client:
        assert registry_reachable(client) is True
        assert client.fetch_version()["apiVersion"] == "2.0.0-fake"
    assert [r.url.path for r in registry.requests] == ["/api/v2/version", "/api/v2/version"]


@pytest.mark.parametrize("failure", [httpx.ConnectError, 503, FakeRegistry.html_page()])
def test_unreachable_registry_is_one_quick_attempt(studies: list[dict[str, Any]], failure: Any) -> None:
    registry = FakeRegistry(studies, failures=[failure] * 5)
    with _client(registry) as client:
        assert registry_reachable(client) is False
    assert len(registry.requests) == 1
