"""`manage.py cohort_rebuild`: recompute the dashboard's precomputed figures from scratch."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from clinic.cohort import cohort_rebuild


class Command(BaseCommand):
    help = (
        "Recompute the cohort dashboard's precomputed tables from the base tables (one "
        "transaction; writes to patients and draws wait until it commits)."
    )

    def handle(self, *args, **options):
        counts = cohort_rebuild()
        self.stdout.write(
            f"Rebuilt: {counts['days']} oncologist-days, {counts['states']} oncologist-states, "
            f"{counts['patients']} patients with an ESR1 call, {counts['alerts']} alerts."
        )
