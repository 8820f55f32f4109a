"""gunicorn for production: `gunicorn -c deploy/gunicorn.conf.py hybridreview.wsgi`."""

import multiprocessing
import os
from typing import Any

from gunicorn import glogging

from hybridreview.logfilters import redact_links

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
# /api/v1/solve/?wait= holds a request at most 30 s; anything longer is a bug.
timeout = 45
graceful_timeout = 30
max_requests = 2000
max_requests_jitter = 200
accesslog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


class RedactingLogger(glogging.Logger):
    """gunicorn's logger with invitation links cut out of the access log: the
    token in /invitations/<token>/ opens the way to an account until used."""

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        atoms = super().atoms(resp, req, environ, request_time)
        # Every atom, not only the request line: a format may name the path,
        # the Referer or the raw environ ({raw_uri}e).
        return {
            key: redact_links(value) if isinstance(value, str) else value
            for key, value in atoms.items()
        }


logger_class = RedactingLogger
