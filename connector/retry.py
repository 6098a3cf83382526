"""Bounded retries with jittered backoff, as an httpx transport wrapper.

Retried: 429 (honouring ``Retry-After``, servicenow-behaviour §1.5), 502, 503, 504 and
transport errors, as ServiceNow's own Python client does (PySNC retries 429/500/502/503; §1.5).

A request that is not idempotent (``POST``/``PATCH`` creating or changing a record) is only
retried when the instance certainly did not act on it: a 429 or 503 answer, or a connection
that was never established. A lost answer (read timeout, reset, 502/504 from a proxy) is raised
instead, so the caller can find out what happened (the ticket service looks the record up by
its correlation id) rather than blindly sending the create again. Requests marked with the
``snow_connector_idempotent`` extension (token requests) are always safe to retry.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable

import httpx

from .settings import RetryPolicy

#: Request extension marking a non-GET request as safe to repeat.
IDEMPOTENT = "snow_connector_idempotent"

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# Answers that mean "not processed": safe to repeat even a create.
_NOT_PROCESSED_STATUSES = frozenset({429, 503})
# Errors raised before any byte of the request reached the instance.
_NOT_SENT_ERRORS: tuple[type[Exception], ...] = (httpx.ConnectError, httpx.ConnectTimeout,
                                                 httpx.PoolTimeout)


def retry_after_seconds(response: httpx.Response, now: float | None = None) -> float | None:
    """Seconds asked for by ``Retry-After`` (delta-seconds or HTTP-date), or ``None``."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def rate_limit_wait(response: httpx.Response, now: float | None = None) -> float | None:
    """Seconds a 429 asks to wait: ``Retry-After``, else until ``X-RateLimit-Reset`` (unix
    seconds; the platform sends it on every rate-limited answer, and some 429s carry only
    it: https://www.servicenow.com/docs/r/xanadu/api-reference/rest-api-explorer/inbound-REST-API-rate-limiting.html);
    ``None`` when neither says."""
    wait = retry_after_seconds(response, now)
    if wait is not None:
        return wait
    reset = response.headers.get("X-RateLimit-Reset", "").strip()
    try:
        at = float(reset)
    except ValueError:
        return None
    current = time.time() if now is None else now
    return max(0.0, at - current)


class RetryTransport(httpx.BaseTransport):
    """Wrap a transport with the connector's retry policy."""

    def __init__(self, inner: httpx.BaseTransport, policy: RetryPolicy, *,
                 sleep: Callable[[float], None] = time.sleep,
                 rng: random.Random | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self._inner = inner
        self._policy = policy
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._clock = clock

    def _is_idempotent(self, request: httpx.Request) -> bool:
        return request.method in _SAFE_METHODS or bool(request.extensions.get(IDEMPOTENT))

    def _backoff(self, attempt: int) -> float:
        # "Full jitter": spreads clients out so they do not retry in lock-step.
        ceiling = min(self._policy.max_delay, self._policy.base_delay * (2 ** attempt))
        return self._rng.uniform(0, ceiling)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send, retrying within the policy's bounds."""
        idempotent = self._is_idempotent(request)
        attempts = max(1, self._policy.attempts)
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                response = self._inner.handle_request(request)
            except httpx.TransportError as exc:
                if last or not (idempotent or isinstance(exc, _NOT_SENT_ERRORS)):
                    raise
                self._sleep(self._backoff(attempt))
                continue
            status = response.status_code
            if (last or status not in self._policy.statuses
                    or not (idempotent or status in _NOT_PROCESSED_STATUSES)):
                return response
            wait = rate_limit_wait(response, self._clock()) if status == 429 else \
                retry_after_seconds(response, self._clock())
            if wait is None:
                delay = self._backoff(attempt)
            elif wait > self._policy.max_delay:
                # Retrying sooner than the instance asked would only be refused again: give
                # the answer (RateLimited with retry_after) to the caller instead.
                return response
            else:
                # Honour the instance's window, plus a little jitter.
                delay = wait + self._rng.uniform(0, self._policy.base_delay)
            response.read()
            response.close()
            self._sleep(delay)
        raise AssertionError("unreachable: the last attempt always returns or raises")

    def close(self) -> None:
        """Close the wrapped transport."""
        self._inner.close()
