"""The charts' plotly.js: the vendored cartesian bundle, served compressed and cacheable, of
the same plotly.js release as the plotly package that builds the figures on the server."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import plotly
import pytest

from clinic.views import PLOTLY_BUNDLE


def _release(head: bytes) -> str:
    return re.search(rb"plotly\.js(?: \([^)]*\))? v(\d+\.\d+\.\d+)", head).group(1).decode()


def test_vendored_bundle_is_the_release_the_plotly_package_writes_figures_for():
    full = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    vendored = _release(PLOTLY_BUNDLE.read_bytes()[:300])
    assert vendored == _release(full.read_bytes()[:300]), (
        "Upgrade clinic/vendor/plotly-cartesian.min.js to plotly.js "
        f"{_release(full.read_bytes()[:300])} (npm: plotly.js-cartesian-dist-min), or pin plotly back."
    )


@pytest.mark.django_db
def test_bundle_is_served_gzipped_when_accepted_and_plain_otherwise(client):
    url = f"/vendor/plotly-{plotly.__version__}.min.js"
    plain = client.get(url)
    assert plain.status_code == 200
    assert plain["Content-Type"] == "text/javascript"
    assert "Content-Encoding" not in plain
    assert plain.content == PLOTLY_BUNDLE.read_bytes()

    zipped = client.get(url, HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert zipped["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped["Vary"]
    assert gzip.decompress(zipped.content) == plain.content
    assert len(zipped.content) < len(plain.content) / 2
    assert "immutable" in zipped["Cache-Control"]


def test_bundle_holds_every_trace_type_the_pages_draw():
    # plotly.js registers each trace module under its type name.
    text = PLOTLY_BUNDLE.read_text(encoding="utf-8")
    for trace in ("scatter", "bar", "histogram"):
        assert re.search(rf'name:\s*"{trace}"', text), trace
