"""The pure parts of the HTTP layer: masking, Retry-After, error messages, backpressure."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from stackplan.cloud.http import (
    Backpressure,
    HttpResponse,
    error_from_response,
    mask_body,
    mask_headers,
    parse_retry_after,
    server_message,
)


def response(status: int, body: bytes | str, headers: dict[str, str] | None = None):
    content = body.encode() if isinstance(body, str) else body
    return HttpResponse(
        "GET", "http://h/compute/v2.1/servers/x?a=1", status, headers or {}, content, 0.01
    )


# -- masking -------------------------------------------------------------------------------


def test_token_headers_are_masked_with_a_digest():
    masked = mask_headers(
        {
            "X-Auth-Token": "tok-123456",
            "X-Subject-Token": "sub-999999",
            "Accept": "application/json",
        }
    )
    assert "tok-123456" not in str(masked) and "sub-999999" not in str(masked)
    assert masked["X-Auth-Token"].startswith("{SHA256}")
    assert masked["Accept"] == "application/json"


def test_password_in_v3_auth_body_is_masked_but_user_name_kept():
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {"name": "alice", "domain": {"id": "default"}, "password": "s3cret"}
                },
            }
        }
    }
    text = mask_body(json.dumps(body))
    assert "s3cret" not in text
    assert "alice" in text


def test_token_id_in_token_auth_bodies_is_masked():
    v3 = {"auth": {"identity": {"methods": ["token"], "token": {"id": "tok-abcdef"}}}}
    v2 = {"auth": {"token": {"id": "tok-abcdef"}, "tenantName": "demo"}}
    assert "tok-abcdef" not in mask_body(json.dumps(v3))
    assert "tok-abcdef" not in mask_body(json.dumps(v2))


def test_v2_access_token_id_and_catalog_are_masked():
    body = {
        "access": {
            "token": {"id": "tok-v2-secret", "expires": "2031-01-01T00:00:00Z"},
            "serviceCatalog": [{"type": "compute"}],
            "user": {"name": "alice"},
        }
    }
    text = mask_body(json.dumps(body).encode())
    assert "tok-v2-secret" not in text
    assert "<removed>" in text
    assert "2031-01-01" in text


def test_admin_pass_in_server_responses_is_masked():
    body = {"server": {"id": "abc", "adminPass": "Xq7mT2pL9vRs"}}
    text = mask_body(json.dumps(body))
    assert "Xq7mT2pL9vRs" not in text
    assert '"id": "abc"' in text


def test_long_bodies_are_cut_and_text_bodies_pass():
    assert mask_body("x" * 5000).endswith("(5000 chars)")
    assert mask_body(b"404 Not Found") == "404 Not Found"
    assert mask_body(None) == ""


# -- Retry-After ---------------------------------------------------------------------------


def test_retry_after_seconds():
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(" 0 ") == 0.0
    assert parse_retry_after("-5") == 0.0


def test_retry_after_http_date():
    now = datetime(2031, 5, 4, 13, 0, 0, tzinfo=UTC)
    value = format_datetime(now + timedelta(seconds=7), usegmt=True)
    assert parse_retry_after(value, now=now) == 7.0
    past = format_datetime(now - timedelta(seconds=30), usegmt=True)
    assert parse_retry_after(past, now=now) == 0.0


def test_retry_after_garbage_is_ignored():
    assert parse_retry_after(None) is None
    assert parse_retry_after("") is None
    assert parse_retry_after("soon") is None


# -- error messages ------------------------------------------------------------------------


def test_nova_error_envelope():
    r = response(
        404,
        '{"itemNotFound": {"code": 404, "message": "Instance x could not be found."}}',
        {"x-openstack-request-id": "req-1"},
    )
    err = error_from_response(r)
    assert err.status == 404
    assert err.method == "GET"
    assert err.path == "/compute/v2.1/servers/x?a=1"
    assert err.request_id == "req-1"
    assert "Instance x could not be found." in err.message
    assert "req-1" in err.render()


def test_keystone_error_envelope():
    r = response(
        401,
        '{"error": {"code": 401, "title": "Unauthorized", '
        '"message": "The request you have made requires authentication."}}',
    )
    assert server_message(r) == "The request you have made requires authentication."


def test_glance_text_error():
    r = response(404, "404 Not Found\n\nNo image found with ID abc\n\n   ")
    assert server_message(r) == "No image found with ID abc"
    html = response(503, "<html><body><h1>503 Service Unavailable</h1>busy</body></html>")
    assert "busy" in server_message(html)


def test_retries_are_mentioned_in_the_message():
    r = response(503, '{"serviceUnavailable": {"code": 503, "message": "down"}}')
    err = error_from_response(r, retries=4)
    assert "after 4 retries" in err.message
    assert err.hint


# -- backpressure --------------------------------------------------------------------------


def test_backpressure_counts_every_pushback():
    bp = Backpressure()
    bp.record(429)
    bp.record(503)
    assert bp.total == 2
