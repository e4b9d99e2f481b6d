"""`check --deploy --fail-level WARNING` passes with production variables set."""

import subprocess
import sys


def test_deploy_check_passes_with_production_environment(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "surveillance.settings.base",
        "SECRET_KEY": "prod-" + "k7Qz9xW2mV4pL8rT1yB6nH3jF5dS0aGc" * 2,
        "ALLOWED_HOSTS": "surveillance.example.org",
        "DATABASE_URL": "postgres://u:p@db.example.org:5432/surveillance",
        "REDIS_URL": "redis://redis.example.org:6379/0",
        "HOME": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_settings_refuse_to_start_without_secret_key(tmp_path):
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "surveillance.settings.base",
        "HOME": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
