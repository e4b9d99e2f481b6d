"""gunicorn's settings (read from the working directory: the Dockerfile's CMD and compose).

The access log leaves out the query string (%(U)s is the path alone; %(r)s would carry the
query) and the Referer (the previous page's URL, query included): a URL may carry a search
term, and search terms are names and MRNs. No PHI in logs.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "3"))
accesslog = "-"
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)ss "%(a)s"'
