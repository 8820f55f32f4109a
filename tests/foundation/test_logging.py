"""What the log says about a request: one line each, a traceback only for a server error."""

from __future__ import annotations

import logging

import pytest


@pytest.fixture
def written(monkeypatch):
    """Every record any stream handler writes (the console's and Django's own)."""
    lines: list[logging.LogRecord] = []

    def emit(handler: logging.Handler, record: logging.LogRecord) -> None:
        if not type(handler).__module__.startswith("_pytest"):  # pytest's own capture
            lines.append(record)

    monkeypatch.setattr(logging.StreamHandler, "emit", emit)
    return lines


@pytest.mark.django_db
def test_a_routine_403_is_one_line_without_a_traceback(settings, client, make_user, written):
    settings.DEBUG = True  # make run's setting, under which Django adds a console of its own
    consumer = make_user("con", "consumer")
    client.force_login(consumer)
    assert client.get("/audit/").status_code == 403
    forbidden = [r for r in written if r.getMessage().startswith("Forbidden")]
    assert len(forbidden) == 1, [r.getMessage() for r in written]
    assert forbidden[0].exc_info is None


@pytest.mark.django_db
def test_a_server_error_keeps_its_traceback(client, make_user, monkeypatch, written):
    from hybridreview import pages

    def broken(*_, **__):
        raise RuntimeError("boom")

    monkeypatch.setattr(pages, "render", broken)
    client.force_login(make_user("ana", "analyst"))
    client.raise_request_exception = False
    assert client.get("/").status_code == 500
    errors = [r for r in written if r.getMessage().startswith("Internal Server Error")]
    assert len(errors) == 1 and errors[0].exc_info is not None


@pytest.mark.django_db
def test_an_invitation_token_never_reaches_a_log_line(client, monkeypatch):
    lines: list[str] = []

    def emit(handler: logging.Handler, record: logging.LogRecord) -> None:
        if not type(handler).__module__.startswith("_pytest"):
            lines.append(handler.format(record))

    monkeypatch.setattr(logging.StreamHandler, "emit", emit)
    token = "Qm9va3MtYXJlLWdyZWF0LXNlY3JldA"
    # A wrong method is a 405, which Django logs with the path and the request.
    assert client.post(f"/invitations/{token}/").status_code == 405
    logging.getLogger("django.server").info(
        '"%s" %s %s', f"GET /invitations/{token}/ HTTP/1.1", 302, 0
    )
    assert len(lines) == 2, lines
    assert all(token not in line for line in lines), lines
    assert all("/invitations/[redacted]/" in line for line in lines), lines


def test_gunicorn_and_the_app_cut_links_out_the_same_way():
    from hybridreview.logfilters import redact_links

    assert (
        redact_links("GET /invitations/abc-_9/ HTTP/1.1") == "GET /invitations/[redacted]/ HTTP/1.1"
    )
    assert redact_links("GET /invitations/accept/ HTTP/1.1") == "GET /invitations/accept/ HTTP/1.1"
