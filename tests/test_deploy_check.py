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


def _compose_config() -> dict:
    import json
    import os
    import pathlib

    import compose

    binary = pathlib.Path(compose.__file__).with_name("docker-compose")
    env = dict(os.environ)
    env.update(
        POSTGRES_PASSWORD="su-pw",
        DATABASE_OWNER_PASSWORD="owner-pw",
        DATABASE_APP_PASSWORD="app-pw",
        SECRET_KEY="k" * 50,
    )
    done = subprocess.run(
        [str(binary), "-f", "docker-compose.yml", "config", "--format", "json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)["services"]


def test_compose_runs_the_app_as_the_app_role_and_migrates_as_the_owner():
    services = _compose_config()
    for name in ("django", "celeryworker", "celerybeat"):
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgres://surveillance_app:app-pw@"), name
        assert "owner-pw" not in json_dump(services[name]), name  # never the owner's password
        assert "su-pw" not in json_dump(services[name]), name
        assert services[name]["depends_on"].get("migrate", {}).get("condition") in (
            "service_completed_successfully",
            None,
        )
    migrate = services["migrate"]
    assert migrate["environment"]["DATABASE_URL"].startswith("postgres://surveillance:owner-pw@")
    assert migrate["environment"]["DATABASE_APP_ROLE"] == "surveillance_app"
    assert migrate["command"] == ["python", "manage.py", "migrate", "--noinput"]
    assert services["django"]["depends_on"]["migrate"]["condition"] == (
        "service_completed_successfully"
    )
    # The web command leaves the access log format to gunicorn.conf.py (no query strings).
    assert services["django"]["command"] == ["gunicorn", "surveillance.wsgi:application"]


def json_dump(value) -> str:
    import json

    return json.dumps(value)
