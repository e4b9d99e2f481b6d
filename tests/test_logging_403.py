"""A 403 is logged as one line, not a traceback (issue 13: every refused page filled the log)."""

import io
import logging

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db


def test_a_refused_page_is_one_log_line(client, lab_user):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    handler.addFilter(settings.LOGGING["filters"]["forbidden_one_line"]["()"]())
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        client.force_login(lab_user)
        assert client.get("/worklist/").status_code == 403
    finally:
        logger.removeHandler(handler)
    lines = [line for line in stream.getvalue().splitlines() if line]
    assert lines == ["WARNING django.request Forbidden (Permission denied): /worklist/"]
