"""Production start-up: the deploy check passes, and a missing or bad setting is a clear message.

Each test runs kapflow in a subprocess with a clean production environment, so the settings
module is imported afresh. DATABASE_URL is dropped (SQLite in a temporary data directory) unless a
test sets it: nothing here needs PostgreSQL.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

KAPFLOW = str(Path(sys.executable).with_name("kapflow"))


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KAPFLOW_") and k != "DATABASE_URL"}
    clean.pop("DJANGO_SETTINGS_MODULE", None)
    clean.update(
        KAPFLOW_ENV="production",
        KAPFLOW_SECRET_KEY=secrets.token_urlsafe(60)[:60],
        KAPFLOW_ALLOWED_HOSTS="kapflow.example.org",
        KAPFLOW_DATA_DIR=str(tmp_path / "data"),
    )
    return clean


def run(env: dict[str, str], *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own command, fixed arguments
        [KAPFLOW, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def deploy_check(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return run(env, "manage", "check", "--deploy", "--fail-level", "WARNING", cwd=tmp_path)


def assert_refused(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode != 0
    for word in words:
        assert word in result.stderr, result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_the_deploy_check_passes_with_a_complete_production_environment(env, tmp_path):
    result = deploy_check(env, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    # No warning at all, of any level: the one silenced check is axes.W006 (settings.py says why:
    # the lock is per account, not per address, which the per-address rate limit covers).
    assert result.stdout.strip() == "System check identified no issues (1 silenced).", result.stdout
    assert result.stderr == ""
    code = "import django; django.setup(); from django.conf import settings; print(settings.SILENCED_SYSTEM_CHECKS)"
    env["DJANGO_SETTINGS_MODULE"] = "kapflow.settings"
    silenced = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert silenced.stdout.strip() == "['axes.W006']"


def test_the_deploy_check_does_not_need_the_database_to_be_up(env, tmp_path):
    env["DATABASE_URL"] = "postgres://nobody@127.0.0.1:1/nothing"
    result = deploy_check(env, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_without_a_secret_key_production_refuses_to_start(env, tmp_path):
    del env["KAPFLOW_SECRET_KEY"]
    result = deploy_check(env, tmp_path)
    assert_refused(result, "KAPFLOW_SECRET_KEY")
    assert not (tmp_path / "data" / "secret_key").exists()  # no key invented in production


def test_a_short_secret_key_is_refused(env, tmp_path):
    env["KAPFLOW_SECRET_KEY"] = "too-short"
    assert_refused(deploy_check(env, tmp_path), "KAPFLOW_SECRET_KEY", "at least 50")


def test_the_secret_key_can_come_from_a_file(env, tmp_path):
    key_file = tmp_path / "secret"
    key_file.write_text(env.pop("KAPFLOW_SECRET_KEY") + "\n", encoding="utf-8")
    env["KAPFLOW_SECRET_KEY_FILE"] = str(key_file)
    result = deploy_check(env, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_missing_secret_key_file_is_named(env, tmp_path):
    del env["KAPFLOW_SECRET_KEY"]
    env["KAPFLOW_SECRET_KEY_FILE"] = str(tmp_path / "missing")
    assert_refused(deploy_check(env, tmp_path), "KAPFLOW_SECRET_KEY_FILE", str(tmp_path / "missing"))


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("KAPFLOW_ALLOWED_HOSTS", "", "KAPFLOW_ALLOWED_HOSTS"),
        ("KAPFLOW_DEBUG", "1", "KAPFLOW_DEBUG"),
        ("KAPFLOW_DEBUG", "perhaps", "KAPFLOW_DEBUG"),
        ("KAPFLOW_ENV", "prod", "KAPFLOW_ENV"),
        ("KAPFLOW_REQUIRE_2FA", "sometimes", "KAPFLOW_REQUIRE_2FA"),
        ("KAPFLOW_SESSION_ABSOLUTE_HOURS", "0", "KAPFLOW_SESSION_ABSOLUTE_HOURS"),
        ("KAPFLOW_LOGIN_FAILURE_LIMIT", "five", "KAPFLOW_LOGIN_FAILURE_LIMIT"),
    ],
)
def test_a_bad_setting_is_a_message_naming_it_not_a_traceback(env, tmp_path, variable, value, named):
    env[variable] = value
    result = deploy_check(env, tmp_path)
    assert_refused(result, "configuration error", named)
    assert result.returncode == 2


@pytest.mark.parametrize("command", [["demo"], ["manage", "demo"]])
def test_the_demo_clinic_is_refused_in_production(env, tmp_path, command):
    result = run(env, *command, cwd=tmp_path)
    assert_refused(result, "refused in production")
    assert result.returncode == 1
    assert "kapflow-demo" not in result.stdout  # the published demo password is never offered


def test_production_turns_on_secure_cookies_and_requires_2fa(env, tmp_path):
    code = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.DEBUG, s.KAPFLOW_REQUIRE_2FA, s.SESSION_COOKIE_SECURE, "
        "s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS > 0, s.EMAIL_BACKEND]))"
    )
    env["DJANGO_SETTINGS_MODULE"] = "kapflow.settings"
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    debug, require_2fa, cookie, csrf, ssl, hsts, backend = json.loads(result.stdout.strip().splitlines()[-1])
    assert (debug, require_2fa, cookie, csrf, ssl, hsts) == (False, True, True, True, True, True)
    assert backend == "django.core.mail.backends.smtp.EmailBackend"  # never the file backend


def test_development_makes_one_private_secret_key_per_data_directory(env, tmp_path):
    env.update(KAPFLOW_ENV="development", DJANGO_SETTINGS_MODULE="kapflow.settings")
    del env["KAPFLOW_SECRET_KEY"]
    code = "import django; django.setup(); from django.conf import settings; print(settings.SECRET_KEY)"
    keys = [
        subprocess.run(  # noqa: S603
            [sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True, check=True
        ).stdout.strip()
        for _ in range(2)
    ]
    assert keys[0] == keys[1]
    assert len(keys[0]) >= 50
    key_file = tmp_path / "data" / "secret_key"
    assert key_file.stat().st_mode & 0o777 == 0o600
