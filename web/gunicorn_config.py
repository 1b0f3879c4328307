"""gunicorn's settings for the grading service, shared by ``handcalc serve`` and production.

Production: ``gunicorn -c python:handcalc.web.gunicorn_config -b 0.0.0.0:8000
'handcalc.web.app:create_app()'``; any setting here can still be overridden on the command line.

Why gevent: a sync worker serves one connection at a time and waits on it for as long as the
client takes, so two clients sending their bodies a byte every few seconds (slowloris) left the
whole service unanswered. A gevent worker keeps each connection in a greenlet: a slow client costs
a little memory, never a worker. Request headers must arrive within ``keepalive`` seconds (gunicorn
reads them under that timeout) and a body within ``HANDCALC_BODY_SECONDS`` (``bodies.py``), so
even slow connections give their place back.
"""

from __future__ import annotations

import os

worker_class = "handcalc.web.worker.FairGeventWorker"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
#: connections a worker holds at once: slow ones cost a greenlet each (some KiB), not a worker
worker_connections = 1000
#: seconds to send the next request's headers on an open connection (and the first one's)
keepalive = 5
#: a worker whose loop is stuck this long (a bug: every request is bounded in milliseconds) restarts
timeout = 30
graceful_timeout = 10
#: request line and headers: generous for browsers, far from what would cost anything
limit_request_line = 4094
limit_request_fields = 64
limit_request_field_size = 8190
accesslog = None
errorlog = "-"
loglevel = "warning"
