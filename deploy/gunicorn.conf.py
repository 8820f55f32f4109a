"""gunicorn for production: `gunicorn -c deploy/gunicorn.conf.py hybridreview.wsgi`."""

import multiprocessing
import os

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
