"""The backup file: a tar archive of the database image and ``manifest.json``.

The manifest names the format and its version, the engine, when and by which kapflow version
the backup was made, the applied migrations, the row count of every table, and the sha256 and
size of the image; it carries the sha256 of its own canonical JSON too. Reading an archive
checks all of them, so a changed byte in either member is found before anything is restored.
Writing goes to a temporary file that is moved into place in one step.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from django.core.management.base import CommandError

FORMAT = "kapflow-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
IMAGES = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
ENGINE_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
MANIFEST_MAX_BYTES = 16 * 1024 * 1024
CHUNK = 1024 * 1024


class BackupError(CommandError):
    """A backup or restore that cannot go ahead; the message says why (the CLI prints it)."""


@dataclass(frozen=True)
class Manifest:
    engine: str
    created_at: str
    kapflow_version: str
    migrations: list[tuple[str, str]]
    row_counts: dict[str, int]
    database_sha256: str
    database_bytes: int
    format_version: int = FORMAT_VERSION

    def fields(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "format_version": self.format_version,
            "engine": self.engine,
            "created_at": self.created_at,
            "kapflow_version": self.kapflow_version,
            "migrations": [list(m) for m in self.migrations],
            "row_counts": dict(sorted(self.row_counts.items())),
            "database_member": IMAGES[self.engine],
            "database_sha256": self.database_sha256,
            "database_bytes": self.database_bytes,
        }

    def to_json(self) -> bytes:
        data = self.fields()
        data["manifest_sha256"] = _canonical_sha256(data)
        return json.dumps(data, indent=2, sort_keys=True).encode("utf-8") + b"\n"

    @property
    def total_rows(self) -> int:
        return sum(self.row_counts.values())

    @property
    def audit_entries(self) -> int:
        return self.row_counts.get("core_accesslogentry", 0)


def _canonical_sha256(data: dict[str, Any]) -> str:
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


# --- Writing ---------------------------------------------------------------------------------


def check_destination(path: Path, *, force: bool) -> None:
    if path.is_dir():
        raise BackupError(f"{path} is a folder; give the name of the backup file to write")
    if not path.parent.is_dir():
        raise BackupError(f"the folder {path.parent} does not exist")
    if path.exists() and not force:
        raise BackupError(f"{path} already exists; choose another name, or pass --force to replace it")


def write_archive(target: Path, manifest: Manifest, image: Path) -> None:
    with target.open("xb") as raw:
        target.chmod(0o600)
        with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
            _add(tar, MANIFEST, manifest.to_json())
            with image.open("rb") as data:
                _add(tar, IMAGES[manifest.engine], data, size=manifest.database_bytes)
        raw.flush()
        os.fsync(raw.fileno())


def _add(tar: tarfile.TarFile, name: str, data: bytes | IO[bytes], *, size: int | None = None) -> None:
    info = tarfile.TarInfo(name)
    info.mode = 0o600
    info.mtime = int(datetime.now(UTC).timestamp())
    if isinstance(data, bytes):
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    else:
        info.size = size or 0
        tar.addfile(info, data)


def publish(partial: Path, path: Path, *, force: bool) -> None:
    """Move the finished archive to ``path`` in one step (never a half-written file there)."""
    if force:
        os.replace(partial, path)
    else:
        try:
            os.link(partial, path)  # fails if path appeared meanwhile: never overwrite
        except FileExistsError:
            raise BackupError(f"{path} already exists; choose another name, or pass --force") from None
        except OSError:  # a file system without hard links
            if path.exists():
                raise BackupError(f"{path} already exists; choose another name, or pass --force") from None
            os.replace(partial, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


# --- Reading ---------------------------------------------------------------------------------


def read_archive(path: Path, into: Path) -> tuple[Manifest, Path]:
    """The manifest and the database image (extracted into ``into``), each checked against
    its sha256. Raises BackupError naming what is wrong."""
    if not path.exists():
        raise BackupError(f"{path} does not exist")
    if not path.is_file():
        raise BackupError(f"{path} is not a file")
    try:
        with tarfile.open(path, mode="r:") as tar:
            members = {member.name: member for member in tar.getmembers()}
            manifest = _read_manifest(path, tar, members)
            image = _extract_image(path, tar, members, manifest, into)
    except (tarfile.TarError, EOFError) as exc:
        raise BackupError(f"{path} is not a kapflow backup, or is damaged ({exc})") from None
    except OSError as exc:  # e.g. the temporary folder is full
        raise BackupError(f"reading {path} failed: {exc}") from None
    return manifest, image


def _read_manifest(path: Path, tar: tarfile.TarFile, members: dict[str, tarfile.TarInfo]) -> Manifest:
    member = members.get(MANIFEST)
    if member is None or not member.isreg() or member.size > MANIFEST_MAX_BYTES:
        raise BackupError(f"{path} is not a kapflow backup: it holds no {MANIFEST}")
    stream = tar.extractfile(member)
    assert stream is not None  # a regular member
    try:
        data = json.loads(stream.read())
    except ValueError:
        raise BackupError(f"{path} is damaged: its {MANIFEST} is not valid JSON") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BackupError(f"{path} is not a kapflow backup: its {MANIFEST} is not a kapflow manifest")
    if data.get("format_version") != FORMAT_VERSION:
        raise BackupError(
            f"{path} has backup format {data.get('format_version')!r}; this kapflow reads format "
            f"{FORMAT_VERSION}: restore it with the kapflow version that made it "
            f"({data.get('kapflow_version', 'unknown')}) or newer"
        )
    if data.pop("manifest_sha256", None) != _canonical_sha256(data):
        raise BackupError(f"{path} is damaged: its {MANIFEST} does not match its sha256")
    try:
        return _manifest_from(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise BackupError(f"{path} is not a kapflow backup: its {MANIFEST} is malformed ({exc})") from None


def _manifest_from(data: dict[str, Any]) -> Manifest:
    engine_name = data["engine"]
    if engine_name not in IMAGES or data["database_member"] != IMAGES[engine_name]:
        raise ValueError(f"engine {engine_name!r}")
    migrations = [(str(app), str(name)) for app, name in data["migrations"]]
    counts = {str(table): int(count) for table, count in dict(data["row_counts"]).items()}
    return Manifest(
        engine=engine_name,
        created_at=str(data["created_at"]),
        kapflow_version=str(data["kapflow_version"]),
        migrations=migrations,
        row_counts=counts,
        database_sha256=str(data["database_sha256"]),
        database_bytes=int(data["database_bytes"]),
    )


def _extract_image(
    path: Path, tar: tarfile.TarFile, members: dict[str, tarfile.TarInfo], manifest: Manifest, into: Path
) -> Path:
    name = IMAGES[manifest.engine]
    unexpected = sorted(set(members) - {MANIFEST, name})
    if unexpected:
        raise BackupError(f"{path} is not a kapflow backup: unexpected member {unexpected[0]!r}")
    member = members.get(name)
    if member is None or not member.isreg() or member.size != manifest.database_bytes:
        raise BackupError(f"{path} is damaged: its database image {name} is missing or cut short")
    stream = tar.extractfile(member)
    assert stream is not None  # a regular member
    image = into / name
    digest = hashlib.sha256()
    with image.open("xb") as out:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
            out.write(chunk)
    if digest.hexdigest() != manifest.database_sha256:
        raise BackupError(
            f"{path} is damaged: its database image does not match its sha256 "
            f"(expected {manifest.database_sha256[:12]}…, found {digest.hexdigest()[:12]}…)"
        )
    return image
