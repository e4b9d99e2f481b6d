"""What a long-running server or worker process does once, when it is ready to serve.

Python's cyclic garbage collector re-scans every tracked object of the oldest generation on
each full collection. After start-up that generation holds Django's modules, models, URLconf
and serializers (several hundred thousand objects) that live as long as the process: a full
collection then costs tens of milliseconds, lands on whichever request or file happens to be
running, and grows with nothing the request did. `gc.freeze()` moves them to a permanent
generation the collector never scans (CPython's documented use: call it in a server process
after start-up, before serving), so a collection only looks at objects made since.
Measured with bench/ingest.py (README, Benchmarks).

Called by surveillance/wsgi.py (each web process: gunicorn, runserver), by the Celery
worker's process start (surveillance/celery.py) and by the benches, which stand for them.
"""

from __future__ import annotations

import gc


def process_ready() -> None:
    """Load what the first request would load, then freeze the collector's oldest objects."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 (imports every view module, as a request would)
    gc.collect()  # what start-up left as garbage is freed, not frozen
    gc.freeze()
