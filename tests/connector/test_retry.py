"""Retries: jittered backoff on 429 (Retry-After), 502/503/504 and transport errors, bounded;
creates are never blindly repeated."""

from __future__ import annotations

import random

import httpx
import pytest

from connector import Connector, RateLimited, RetryPolicy
from connector.retry import RetryTransport, retry_after_seconds
from tests.connector.fake_instance import FakeInstance, Fault

TABLE = "/api/now/table/change_request"


def _flaky(statuses: list[int], headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        status = statuses.pop(0) if statuses else 200
        return httpx.Response(status, headers=headers or {}, json={"result": []})
    return httpx.MockTransport(handler), calls


def _client(transport: httpx.BaseTransport, sleeps: list[float],
            policy: RetryPolicy | None = None) -> httpx.Client:
    retry = RetryTransport(transport, policy or RetryPolicy(), sleep=sleeps.append,
                           rng=random.Random(7))
    return httpx.Client(transport=retry, base_url="https://x.service-now.com")


def test_429_honours_retry_after() -> None:
    transport, calls = _flaky([429, 200], {"Retry-After": "7"})
    sleeps: list[float] = []
    assert _client(transport, sleeps).get(TABLE).status_code == 200
    assert len(calls) == 2
    assert 7 <= sleeps[0] <= 7 + RetryPolicy().base_delay


@pytest.mark.parametrize("status", [502, 503, 504])
def test_gateway_errors_are_retried_for_reads(status: int) -> None:
    transport, calls = _flaky([status, status, 200])
    sleeps: list[float] = []
    assert _client(transport, sleeps).get(TABLE).status_code == 200
    assert len(calls) == 3 and len(sleeps) == 2


def test_retries_are_bounded_and_jittered() -> None:
    transport, calls = _flaky([503] * 10)
    sleeps: list[float] = []
    policy = RetryPolicy(attempts=4, base_delay=1.0, max_delay=5.0)
    assert _client(transport, sleeps, policy).get(TABLE).status_code == 503
    assert len(calls) == 4 and len(sleeps) == 3
    for attempt, delay in enumerate(sleeps):
        assert 0 <= delay <= min(5.0, 1.0 * 2 ** attempt)
    assert len(set(sleeps)) > 1  # jitter: not a fixed schedule


def test_transport_errors_are_retried_for_reads() -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) < 3:
            raise httpx.ReadTimeout("slow", request=request)
        return httpx.Response(200, json={"result": []})
    sleeps: list[float] = []
    assert _client(httpx.MockTransport(handler), sleeps).get(TABLE).status_code == 200
    assert len(calls) == 3


@pytest.mark.parametrize("status", [502, 504])
def test_create_is_not_repeated_on_a_lost_answer(status: int) -> None:
    transport, calls = _flaky([status, 201])
    sleeps: list[float] = []
    response = _client(transport, sleeps).post(TABLE, json={"short_description": "x"})
    assert response.status_code == status and len(calls) == 1


def test_create_is_repeated_when_refused_before_processing() -> None:
    transport, calls = _flaky([429, 201], {"Retry-After": "1"})
    sleeps: list[float] = []
    assert _client(transport, sleeps).post(TABLE, json={}).status_code == 201
    assert len(calls) == 2


def test_create_read_timeout_is_raised_not_retried() -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        raise httpx.ReadTimeout("lost", request=request)
    with pytest.raises(httpx.ReadTimeout):
        _client(httpx.MockTransport(handler), []).post(TABLE, json={})
    assert len(calls) == 1


def test_create_connect_error_is_retried() -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) == 1:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(201, json={"result": {}})
    assert _client(httpx.MockTransport(handler), []).post(TABLE, json={}).status_code == 201


def test_retry_after_http_date() -> None:
    response = httpx.Response(429, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:30 GMT"})
    assert retry_after_seconds(response, now=1445412480.0) == 30.0
    assert retry_after_seconds(httpx.Response(429, headers={"Retry-After": "soon"})) is None


def test_rate_limited_after_retries_is_a_typed_error(connected: Connector, fake: FakeInstance,
                                                     sleeps: list[float]) -> None:
    fake.faults.append(Fault("GET", "/api/now/stats/change_request", times=10, status=429,
                             headers={"Retry-After": "2"}))
    with pytest.raises(RateLimited) as caught:
        connected.cards()
    assert caught.value.retry_after == 2.0
    assert len(sleeps) == RetryPolicy().attempts - 1


def test_token_requests_are_retried(connector: Connector, fake: FakeInstance) -> None:
    from tests.connector import fake_instance as fi

    fake.faults.append(Fault("POST", "/oauth_token.do", times=1, status=503))
    connector.connect_with_password(fi.BASE, fi.CLIENT_ID, fi.CLIENT_SECRET, fi.USER,
                                    fi.PASSWORD)
    assert connector.store.load_credentials() is not None


def test_a_retry_after_beyond_the_cap_is_handed_back_not_cut_short() -> None:
    transport, calls = _flaky([429, 200], {"Retry-After": "3600"})
    sleeps: list[float] = []
    assert _client(transport, sleeps).get(TABLE).status_code == 429
    assert len(calls) == 1 and sleeps == []
