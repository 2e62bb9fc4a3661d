"""The typed environment readers name the variable to fix when a value is wrong."""

from __future__ import annotations

import pytest

from kapflow.env import ConfigurationError, envbool, envint, envlist, envsecret, envstr


@pytest.mark.parametrize("raw", ["1", "true", "TRUE", " yes ", "On"])
def test_envbool_reads_the_usual_spellings_of_true(monkeypatch, raw):
    monkeypatch.setenv("KAPFLOW_X", raw)
    assert envbool("KAPFLOW_X", False) is True


@pytest.mark.parametrize("raw", ["0", "false", "No", "OFF"])
def test_envbool_reads_the_usual_spellings_of_false(monkeypatch, raw):
    monkeypatch.setenv("KAPFLOW_X", raw)
    assert envbool("KAPFLOW_X", True) is False


@pytest.mark.parametrize("raw", [None, "", "   "])
def test_envbool_unset_or_blank_gives_the_default(monkeypatch, raw):
    if raw is None:
        monkeypatch.delenv("KAPFLOW_X", raising=False)
    else:
        monkeypatch.setenv("KAPFLOW_X", raw)
    assert envbool("KAPFLOW_X", True) is True
    assert envbool("KAPFLOW_X", False) is False


@pytest.mark.parametrize("raw", ["maybe", "2", "tru", "y e s"])
def test_envbool_bad_value_raises_naming_the_variable(monkeypatch, raw):
    monkeypatch.setenv("KAPFLOW_REQUIRE_2FA", raw)
    with pytest.raises(ConfigurationError, match="KAPFLOW_REQUIRE_2FA") as info:
        envbool("KAPFLOW_REQUIRE_2FA", False)
    assert repr(raw) in str(info.value)


def test_envint_reads_a_number_and_defaults_when_unset(monkeypatch):
    monkeypatch.delenv("KAPFLOW_N", raising=False)
    assert envint("KAPFLOW_N", 12) == 12
    monkeypatch.setenv("KAPFLOW_N", " 8 ")
    assert envint("KAPFLOW_N", 12) == 8


@pytest.mark.parametrize("raw", ["twelve", "1.5", "0x10"])
def test_envint_not_a_number_raises_naming_the_variable(monkeypatch, raw):
    monkeypatch.setenv("KAPFLOW_SESSION_ABSOLUTE_HOURS", raw)
    with pytest.raises(ConfigurationError, match="KAPFLOW_SESSION_ABSOLUTE_HOURS must be a whole number"):
        envint("KAPFLOW_SESSION_ABSOLUTE_HOURS", 12)


def test_envint_below_the_minimum_raises(monkeypatch):
    monkeypatch.setenv("KAPFLOW_SESSION_ABSOLUTE_HOURS", "0")
    with pytest.raises(ConfigurationError, match="KAPFLOW_SESSION_ABSOLUTE_HOURS must be at least 1"):
        envint("KAPFLOW_SESSION_ABSOLUTE_HOURS", 12, minimum=1)
    monkeypatch.setenv("KAPFLOW_SESSION_ABSOLUTE_HOURS", "1")
    assert envint("KAPFLOW_SESSION_ABSOLUTE_HOURS", 12, minimum=1) == 1


def test_envlist_splits_on_commas_and_drops_blanks(monkeypatch):
    monkeypatch.setenv("KAPFLOW_ALLOWED_HOSTS", " a.example.org, ,b.example.org ,")
    assert envlist("KAPFLOW_ALLOWED_HOSTS") == ["a.example.org", "b.example.org"]
    monkeypatch.setenv("KAPFLOW_ALLOWED_HOSTS", "")
    assert envlist("KAPFLOW_ALLOWED_HOSTS", ["localhost"]) == ["localhost"]


def test_envlist_default_is_not_shared_between_calls(monkeypatch):
    monkeypatch.delenv("KAPFLOW_L", raising=False)
    default = ["x"]
    result = envlist("KAPFLOW_L", default)
    result.append("y")
    assert default == ["x"]


def test_envstr_gives_the_value_or_the_default(monkeypatch):
    monkeypatch.setenv("KAPFLOW_S", "value")
    assert envstr("KAPFLOW_S") == "value"
    monkeypatch.delenv("KAPFLOW_S")
    assert envstr("KAPFLOW_S", "fallback") == "fallback"


def test_envsecret_reads_the_variable_stripped(monkeypatch):
    monkeypatch.delenv("KAPFLOW_SECRET_KEY_FILE", raising=False)
    monkeypatch.setenv("KAPFLOW_SECRET_KEY", "  s3cret \n")
    assert envsecret("KAPFLOW_SECRET_KEY") == "s3cret"


def test_envsecret_prefers_the_file(monkeypatch, tmp_path):
    secret = tmp_path / "key"
    secret.write_text("from-the-file\n", encoding="utf-8")
    monkeypatch.setenv("KAPFLOW_SECRET_KEY", "from-the-variable")
    monkeypatch.setenv("KAPFLOW_SECRET_KEY_FILE", str(secret))
    assert envsecret("KAPFLOW_SECRET_KEY") == "from-the-file"


def test_envsecret_unreadable_file_raises_naming_the_variable(monkeypatch, tmp_path):
    missing = tmp_path / "nope"
    monkeypatch.setenv("KAPFLOW_SECRET_KEY_FILE", str(missing))
    with pytest.raises(ConfigurationError, match="KAPFLOW_SECRET_KEY_FILE") as info:
        envsecret("KAPFLOW_SECRET_KEY")
    assert str(missing) in str(info.value)


def test_envsecret_unset_is_empty(monkeypatch):
    monkeypatch.delenv("KAPFLOW_EMAIL_PASSWORD", raising=False)
    monkeypatch.delenv("KAPFLOW_EMAIL_PASSWORD_FILE", raising=False)
    assert envsecret("KAPFLOW_EMAIL_PASSWORD") == ""
