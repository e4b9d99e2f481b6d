"""rev5 review tests: the therapy fixtures (a patient eligible for a switch, 24 Nov 2026)."""

from tests.liquidbiopsy.conftest import collected  # noqa: F401 (fixture)
from tests.therapy.conftest import (  # noqa: F401 (fixtures)
    _clinic_today,
    _fresh_rule_config,
    eligible,
    other,
)
