"""Typed readers for settings that come from the environment.

Each helper names the variable it reads, so a wrong value fails at start-up with a message
that says which variable to fix, instead of somewhere deep in a request.
"""

from __future__ import annotations

import os
from pathlib import Path


class ConfigurationError(Exception):
    """A setting in the environment is missing or malformed."""


def envstr(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def envbool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ConfigurationError(f"{name} must be one of 1/0, true/false, yes/no, on/off; got {raw!r}")


def envint(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a whole number; got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ConfigurationError(f"{name} must be at least {minimum}; got {value}")
    return value


def envlist(name: str, default: list[str] | None = None) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]


def envsecret(name: str) -> str:
    """Read a secret from NAME, or from the file that NAME_FILE points to."""
    file_name = os.environ.get(f"{name}_FILE", "").strip()
    if file_name:
        path = Path(file_name)
        try:
            return path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigurationError(
                f"{name}_FILE points to {file_name!r}, which cannot be read: {exc.strerror}"
            ) from None
    return os.environ.get(name, "").strip()
