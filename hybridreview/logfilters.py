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


# An invitation link's token opens the way to an account until it is used:
# it is cut out of every log line (the dev server's request lines, Django's
# 4xx warnings and their request repr, gunicorn's access log).
INVITATION_PATH = re.compile(r"(/invitations/)(?!accept/)[^/?#\s'\"]+/?")


def redact_links(text: str) -> str:
    return INVITATION_PATH.sub(r"\1[redacted]/", text)


class RedactInvitationLinks(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_links(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        request = getattr(record, "request", None)
        if request is not None and "/invitations/" in repr(request):
            record.request = redact_links(repr(request))
        return True
