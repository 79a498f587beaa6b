"""Error text: Zendesk's three body shapes read into one line with no secret in it."""

import json

import requests

from tap_zendesk.api.errors import describe_response, zendesk_reason


def _response(status, body, content_type="application/json"):
    response = requests.Response()
    response.status_code = status
    response._content = (json.dumps(body) if not isinstance(body, str) else body).encode()
    response.headers["Content-Type"] = content_type
    response.url = "https://acme.zendesk.com/api/v2/tickets.json?page[after]=abc"
    return response


def test_reason_reads_shape_a_with_details():
    """{error, description, details} -> code, text and each field's description."""
    body = {
        "error": "RecordInvalid",
        "description": "Record validation errors",
        "details": {"requester": [{"description": "Requester: Name is too short", "error": "x"}]},
    }
    text = zendesk_reason(_response(422, body))
    assert "RecordInvalid" in text and "requester: Requester: Name is too short" in text


def test_reason_reads_shape_b_and_c_and_plain_text():
    """{error: {title, message}}, {errors: [...]}, plain text and HTML all give a short line."""
    assert "Forbidden: You do not" in zendesk_reason(
        _response(403, {"error": {"title": "Forbidden", "message": "You do not have access"}})
    )
    assert "InvalidPaginationDepth" in zendesk_reason(
        _response(400, {"errors": [{"code": "InvalidPaginationDepth", "title": "too deep"}]})
    )
    assert "requests per minute" in zendesk_reason(
        _response(429, "Number of allowed API requests per minute exceeded", "text/plain")
    )
    assert "HTML" in zendesk_reason(_response(502, "<html><body>Bad gateway</body></html>"))


def test_describe_response_gives_path_without_query():
    """The line names status and path, never the query string (cursors) or headers."""
    response = _response(404, {"error": "RecordNotFound", "description": "Not found"})
    line = describe_response(response, method="GET")
    assert line.startswith("Zendesk answered 404 on GET /api/v2/tickets.json: RecordNotFound")
    assert "page[after]" not in line
