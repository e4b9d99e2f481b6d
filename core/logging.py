"""Logging filters: no PHI in logs (issue 12 item 6).

`StripQueryString` removes the query string from the request line that Django's development
server (`runserver`, used by scripts/run.sh) logs for every request: a query may carry a
search term, and search terms are names and MRNs. gunicorn's access log format
(gunicorn.conf.py) leaves it out in production.
"""

from __future__ import annotations

import logging
import re

_QUERY = re.compile(r"\?[^\s\"]*")


class StripQueryString(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.args and isinstance(record.args, tuple):
            record.args = tuple(
                _QUERY.sub("", arg) if isinstance(arg, str) else arg for arg in record.args
            )
        if isinstance(record.msg, str) and "?" in record.msg and not record.args:
            record.msg = _QUERY.sub("", record.msg)
        return True
