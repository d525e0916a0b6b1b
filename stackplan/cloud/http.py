"""The HTTP layer: one pooled connection pool, timeouts, retries, error translation, logs.

The only module in stackplan that imports `requests`. It knows no OpenStack service:
it sends what it is given, retries what is safe to repeat, turns error statuses and
connection failures into `CloudError`, and logs traffic with secrets masked.
"""

from __future__ import annotations

import email.utils
import json
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3.exceptions
from requests.adapters import HTTPAdapter

from stackplan.clock import utc_now
from stackplan.cloud.secret import MASK, mask_body, mask_headers, mask_sensitive
from stackplan.errors import CloudError

log = logging.getLogger("stackplan.http")

IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
# Statuses that mean "not done, try again": a proxy or the service pushing back.
RETRY_STATUSES = frozenset({429, 502, 503, 504})
PUSHBACK_STATUSES = frozenset({429, 503})


@dataclass(frozen=True, slots=True)
class HttpOptions:
    """How requests are sent. `pool_size` must be at least the apply parallelism."""

    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    verify: bool | str = True  # False, True or the path of a CA bundle
    cert: str | tuple[str, str] | None = None
    pool_size: int = 32
    max_retries: int = 4  # extra attempts after the first
    backoff_base: float = 0.2  # seconds; doubled per attempt, with jitter
    backoff_max: float = 8.0
    retry_after_cap: float = 30.0  # never wait longer than this for a Retry-After
    user_agent: str = "stackplan/0.1.0"


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """A response as stackplan sees it: status, lower-cased headers, raw body."""

    method: str
    url: str
    status: int
    headers: Mapping[str, str]
    content: bytes
    elapsed: float

    def json(self) -> Any:
        if not self.content:
            return None
        try:
            return json.loads(self.content)
        except ValueError as exc:
            raise CloudError(
                f"the cloud answered with a body that is not JSON: {self.content[:200]!r}",
                method=self.method,
                path=_path(self.url),
                status=self.status,
                request_id=self.request_id,
            ) from exc

    @property
    def request_id(self) -> str | None:
        return self.headers.get("x-openstack-request-id") or self.headers.get(
            "x-compute-request-id"
        )


@dataclass(frozen=True, slots=True)
class RetryEvent:
    """Given to `on_retry` hooks before each wait: what failed and how long we wait."""

    method: str
    url: str
    attempt: int  # 1 for the first retry
    delay: float
    status: int | None  # None for a connection error
    reason: str
    attempts: int = 0  # how many attempts there are in all (0: not said)

    def describe(self) -> str:
        """`retrying GET /compute/v2.1/servers/detail in 2 s: read timed out after 60 s
        (attempt 2 of 5)`: the line a user sees for each retry."""
        of = f" of {self.attempts}" if self.attempts else ""
        wait = f"{round(self.delay, 1):g} s"
        return (
            f"retrying {self.method} {_path(self.url)} in {wait}: {self.reason} "
            f"(attempt {self.attempt + 1}{of})"
        )


class Backpressure:
    """Counts push-back answers (429/503), thread-safe: the executor reads `total` between
    its rounds and narrows its parallelism while it grows."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.total = 0

    def record(self, status: int) -> None:
        with self._lock:
            self.total += 1


class HttpClient:
    """Sends requests over one pooled `requests.Session`; retries and translates errors."""

    def __init__(
        self,
        options: HttpOptions | None = None,
        *,
        backpressure: Backpressure | None = None,
        on_retry: Callable[[RetryEvent], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.options = options or HttpOptions()
        self.backpressure = backpressure or Backpressure()
        self.on_retry = on_retry
        self._sleep = sleep
        self._session = requests.Session()
        adapter = HTTPAdapter(
            pool_connections=4, pool_maxsize=self.options.pool_size, max_retries=0
        )
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        self._session.verify = self.options.verify
        if self.options.cert:
            self._session.cert = self.options.cert
        self._session.headers["User-Agent"] = self.options.user_agent
        self._count_lock = threading.Lock()
        self._count = 0
        self._secrets: set[str] = set()
        self._proxies: dict[str, dict[str, str]] = {}

    # -- counters and secrets ------------------------------------------------------------

    @property
    def request_count(self) -> int:
        """How many HTTP requests were sent (each retry counts), for tests and benchmarks."""
        with self._count_lock:
            return self._count

    def register_secret(self, value: str) -> None:
        """Mask `value` wherever it would appear in a log line (tokens, passwords)."""
        if value and len(value) >= 4:
            self._secrets.add(value)

    def close(self) -> None:
        self._session.close()

    # -- sending -------------------------------------------------------------------------

    def _proxies_for(self, prepared: requests.PreparedRequest) -> dict[str, str]:
        """The proxies of the request's origin, as requests would find them.

        Left to itself, requests reads the whole environment three times per request to
        find HTTP(S)_PROXY and NO_PROXY: a fifth of the client's CPU in a destroy of 400
        resources. The environment does not change during a run, so once per origin.
        """
        parts = urlsplit(prepared.url or "")
        origin = f"{parts.scheme}://{parts.netloc}"
        found = self._proxies.get(origin)
        if found is None:
            found = requests.utils.resolve_proxies(
                prepared, self._session.proxies, self._session.trust_env
            )
            self._proxies[origin] = found
        return found

    def request(
        self,
        method: str,
        url: str,
        *,
        json_body: Any = None,
        params: Mapping[str, Any] | Iterable[tuple[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
        retry_safe: bool | None = None,
    ) -> HttpResponse:
        """Send one request; retry it when safe; return a 2xx/3xx response or raise.

        `retry_safe` says whether repeating the request is harmless; it defaults to
        True for idempotent methods and False for POST. A 429 is retried whatever the
        method: the cloud refused it before doing anything (RFC 6585).
        """
        method = method.upper()
        safe = method in IDEMPOTENT if retry_safe is None else retry_safe
        send_headers = {"Accept": "application/json", **(headers or {})}
        attempt = 0
        while True:
            try:
                response = self._send(method, url, json_body, params, send_headers)
            except requests.RequestException as exc:
                if attempt < self.options.max_retries and (safe or _nothing_sent(exc)):
                    attempt += 1
                    reason = _reason(exc, self.options)
                    self._wait(method, url, attempt, self._backoff(attempt), None, reason)
                    continue
                raise _connection_error(method, url, exc) from exc
            status = response.status
            if status in PUSHBACK_STATUSES:
                self.backpressure.record(status)
            if attempt < self.options.max_retries and _retryable(method, status, safe):
                attempt += 1
                delay = self._delay(response, attempt)
                self._wait(method, url, attempt, delay, status, HTTPStatus(status).phrase)
                continue
            if status >= 400:
                raise error_from_response(response, retries=attempt)
            return response

    def _send(
        self,
        method: str,
        url: str,
        json_body: Any,
        params: Any,
        headers: dict[str, str],
    ) -> HttpResponse:
        data = None
        if json_body is not None:
            data = json.dumps(json_body).encode()
            headers = {**headers, "Content-Type": "application/json"}
        with self._count_lock:
            self._count += 1
        debug = log.isEnabledFor(logging.DEBUG)
        started = time.monotonic()
        prepared = self._session.prepare_request(
            requests.Request(method, url, params=params, data=data, headers=headers)
        )
        if debug:
            log.debug(
                "REQ %s %s headers=%s body=%s",
                method,
                self._mask_text(prepared.url or url),
                self._mask_text(str(mask_headers(prepared.headers))),
                self._mask_text(mask_body(data)),
            )
        raw = self._session.send(
            prepared,
            timeout=(self.options.connect_timeout, self.options.read_timeout),
            allow_redirects=True,
            proxies=self._proxies_for(prepared),
        )
        elapsed = time.monotonic() - started
        result = HttpResponse(
            method=method,
            url=raw.url or url,
            status=raw.status_code,
            headers={k.lower(): v for k, v in raw.headers.items()},
            content=raw.content,
            elapsed=elapsed,
        )
        if debug:
            log.debug(
                "RESP %s %s -> %d in %.3fs request_id=%s headers=%s body=%s",
                method,
                self._mask_text(result.url),
                result.status,
                elapsed,
                result.request_id,
                self._mask_text(str(mask_headers(result.headers))),
                self._mask_text(mask_body(result.content)),
            )
        return result

    def _delay(self, response: HttpResponse, attempt: int) -> float:
        if response.status in (429, 503):
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            if retry_after is not None:
                return min(retry_after, self.options.retry_after_cap)
        return self._backoff(attempt)

    def _backoff(self, attempt: int) -> float:
        ceiling = min(self.options.backoff_max, self.options.backoff_base * 2 ** (attempt - 1))
        return ceiling * random.uniform(0.5, 1.0)  # jitter spreads retries of many workers

    def _wait(self, method: str, url: str, attempt: int, delay: float, status, reason) -> None:
        event = RetryEvent(
            method, url, attempt, delay, status, reason, self.options.max_retries + 1
        )
        log.debug(
            "RETRY %s %s (%s), attempt %d in %.2fs", method, _path(url), reason, attempt, delay
        )
        if self.on_retry is not None:
            self.on_retry(event)
        self._sleep(delay)

    def _mask_text(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return mask_sensitive(text)


# -- retry rules ---------------------------------------------------------------------------


def _retryable(method: str, status: int, safe: bool) -> bool:
    if status == 429:
        return True
    # A 500 may come half-way through a write (Nova does that), so like 502-504 it is
    # repeated only for requests that are safe to repeat: idempotent methods, or a POST
    # the caller marked safe (asking Keystone for a token).
    return safe and (status in RETRY_STATUSES or status == 500)


def _nothing_sent(exc: requests.RequestException) -> bool:
    """True when the connection was never made, so even a POST can be sent again."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    cause = exc.args[0] if exc.args else None
    if isinstance(cause, urllib3.exceptions.MaxRetryError):
        cause = cause.reason
    return isinstance(cause, urllib3.exceptions.NewConnectionError)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` value (delay-seconds or an HTTP date)."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or utc_now())).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


# -- errors ------------------------------------------------------------------------------

_HINTS = {
    401: "the cloud refused the token; check the credentials (OS_* or clouds.yaml)",
    403: "the project's quota or the cloud's policy forbids this; "
    "see `openstack limits show --absolute`",
    409: "the resource is busy or in a state that does not allow this; retry when it settles",
    413: "a quota or size limit was hit",
    429: "the cloud is rate-limiting us; lower --parallelism or retry later",
    503: "the service is unavailable or overloaded; retry later or lower --parallelism",
}


def error_from_response(response: HttpResponse, retries: int = 0) -> CloudError:
    """A `CloudError` for an error status, with the server's own message."""
    message = server_message(response)
    phrase = _phrase(response.status)
    text = f"{message} ({response.status} {phrase})" if message else f"{response.status} {phrase}"
    if retries:
        text += f", after {retries} retr{'y' if retries == 1 else 'ies'}"
    return CloudError(
        text,
        method=response.method,
        path=_path(response.url),
        status=response.status,
        request_id=response.request_id,
        hint=_HINTS.get(response.status),
    )


def server_message(response: HttpResponse) -> str:
    """The message inside an error body: Nova, Keystone and Glance each wrap it differently."""
    text = response.content.decode("utf-8", "replace").strip()
    if not text:
        return ""
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict):
        found = _message_in(data)
        if found:
            return found
    # Glance and proxies answer text or HTML: "404 Not Found\n\nThe resource could not..."
    plain = re.sub(r"<[^>]+>", " ", text)
    plain = " ".join(plain.split())
    plain = re.sub(rf"^{response.status} {re.escape(_phrase(response.status))}\s*", "", plain)
    return plain[:300]


def _message_in(data: dict[str, Any]) -> str:
    if isinstance(data.get("message"), str):
        return data["message"]
    for inner in data.values():  # {"itemNotFound": {...}}, {"error": {...}}
        if isinstance(inner, dict) and isinstance(inner.get("message"), str):
            return inner["message"]
    return ""


def _connection_error(method: str, url: str, exc: requests.RequestException) -> CloudError:
    parts = urlsplit(url)
    base = f"{parts.scheme}://{parts.netloc}"
    if isinstance(exc, requests.exceptions.SSLError):
        hint = "the TLS certificate was not accepted; set OS_CACERT (or cacert in clouds.yaml)"
    elif isinstance(exc, requests.Timeout):
        hint = (
            "the cloud did not answer in time; check the network, or give it longer with "
            "api_timeout in clouds.yaml or OS_API_TIMEOUT (seconds)"
        )
    else:
        hint = f"is the cloud running and reachable at {base}? check OS_AUTH_URL / clouds.yaml"
    return CloudError(
        f"could not reach {url}: {_reason(exc)}", method=method, path=parts.path, hint=hint
    )


def _reason(exc: BaseException, options: HttpOptions | None = None) -> str:
    text = str(exc)
    if isinstance(exc, requests.ConnectTimeout):
        after = f" after {options.connect_timeout:g} s" if options else ""
        return f"connection timed out{after}"
    if isinstance(exc, requests.ReadTimeout):
        after = f" after {options.read_timeout:g} s" if options else ""
        return f"read timed out{after}"
    match = re.search(r"\[Errno -?\d+\] ([^'\")]+)", text)
    if match:
        return match.group(1).strip()
    return type(exc).__name__ + (f": {text[:200]}" if text else "")


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


__all__ = [
    "Backpressure",
    "HttpClient",
    "HttpOptions",
    "HttpResponse",
    "RetryEvent",
    "error_from_response",
    "mask_body",
    "mask_headers",
    "parse_retry_after",
    "server_message",
]
