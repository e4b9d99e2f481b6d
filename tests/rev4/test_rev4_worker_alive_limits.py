"""rev4: 8c1771c declares a worker dead when no task finished for WORKER_STALL_MINUTES (10),
but a task may legitimately run for CELERY_TASK_TIME_LIMIT (15 min). With --concurrency=2
(docker-compose.yml), two large uploads running 11-15 minutes each leave no task finishing:
the health check fails a worker that is working, and the restart kills both uploads (which
the sweep re-queues, to be killed again if they take as long)."""

from django.conf import settings


def test_stall_limit_exceeds_the_longest_task_a_worker_may_legitimately_run():
    assert settings.WORKER_STALL_MINUTES * 60 > settings.CELERY_TASK_TIME_LIMIT, (
        settings.WORKER_STALL_MINUTES,
        settings.CELERY_TASK_TIME_LIMIT,
    )
