"""Log filters: what a log line carries besides its message."""

from __future__ import annotations

import logging
import re


class ClientErrorWithoutTraceback(logging.Filter):
    """A 4xx answer is a refusal by design (403, 404, 409): log its one line,
    not the traceback of the exception that made it. 5xx keep theirs."""

    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if isinstance(status, int) and 400 <= status < 500:
            record.exc_info = None
            record.exc_text = None
        return True


# An invitation's or a password reset's link opens an account until it is
# used: its token is cut out of every log line (the dev server's request
# lines, Django's 4xx warnings and their request repr, gunicorn's access log).
SECRET_PATHS = (
    re.compile(r"(/invitations/)(?!accept/)[^/?#\s'\"]+/?"),
    # /accounts/reset/<uidb64>/<token>/; Django then redirects to .../set-password/.
    re.compile(r"(/accounts/reset/[^/?#\s'\"]+/)(?!set-password/)[^/?#\s'\"]+/?"),
)


def redact_links(text: str) -> str:
    for pattern in SECRET_PATHS:
        text = pattern.sub(r"\1[redacted]/", text)
    return text


class RedactSecretLinks(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_links(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        request = getattr(record, "request", None)
        if request is not None:
            shown = repr(request)
            if redact_links(shown) != shown:
                record.request = redact_links(shown)
        return True
