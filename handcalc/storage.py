"""Where a job's results live: a folder per job under a storage location named by a URL, never in
a database.

``file:///srv/handcalc/jobs`` (the default: ``handcalc-jobs`` in the system's temporary folder)
is a folder on any filesystem that every process of the job mounts at the same path: the web
service or ``handcalc batch`` that makes a job, the workers that render it (NFS, CephFS, a
cloud provider's shared disk). A job's folder holds what every process needs to know about it,
so progress can be read by any of them without the queue or the web's database:

    JOB_ID/job.json                 what to make (written once, when the job is made)
    JOB_ID/outcomes/00007.ok.json   student 7 done (what the class key needs), or
    JOB_ID/outcomes/00007.failed.json   student 7 failed, and why
    JOB_ID/files/…                  the PDFs, and the class key at the end
    JOB_ID/finished.json            the job is done; JOB_ID/result.zip: every PDF in one zip

Every file is written to a temporary name and renamed, so a reader never sees half of one. Job
ids are random (``secrets.token_urlsafe``): a job is reachable only by whoever was told its id.
A job's folder is removed ``HANDCALC_JOB_RETENTION_HOURS`` (24) after it was made, by
``Storage.remove_expired`` (called whenever a job is made, and periodically by a worker started
with ``handcalc worker --cleanup``).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from .errors import HandcalcError

STORAGE_ENV = "HANDCALC_STORAGE_URL"
RETENTION_ENV = "HANDCALC_JOB_RETENTION_HOURS"
RETENTION_HOURS = 24.0
#: what a job id looks like (``new_job_id``); anything else is refused before it meets a path
JOB_ID = re.compile(r"[A-Za-z0-9_-]{16,64}")
MANIFEST = "job.json"
FINISHED = "finished.json"
RESULT = "result.zip"


class StorageError(HandcalcError):
    """The storage URL cannot be used."""


class JobNotFound(HandcalcError):
    """No job of that id in this storage (never made, or removed after its retention time)."""


def default_url() -> str:
    return Path(tempfile.gettempdir(), "handcalc-jobs").as_uri()


def storage_url(url: str | None = None) -> str:
    """The storage in force: ``url``, else ``HANDCALC_STORAGE_URL``, else the default."""
    return url or os.environ.get(STORAGE_ENV) or default_url()


def retention_hours(hours: float | None = None) -> float:
    """How long a job's files are kept: ``hours``, else ``HANDCALC_JOB_RETENTION_HOURS``, else
    24."""
    if hours is not None:
        return hours
    raw = os.environ.get(RETENTION_ENV)
    if not raw:
        return RETENTION_HOURS
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise StorageError(f"{RETENTION_ENV}: {raw[:20]!r} is not a number of hours above 0")
    return value


def open_storage(url: str | None = None) -> Storage:
    """The storage a URL names (``file:///absolute/folder``; the folder is made when a job is)."""
    url = storage_url(url)
    parts = urlsplit(url)
    if parts.scheme != "file":
        raise StorageError(
            f"storage {url!r}: only file:///FOLDER is supported (a folder every worker and the "
            "web service mount at the same path)"
        )
    if parts.netloc not in ("", "localhost") or not parts.path.startswith("/"):
        raise StorageError(f"storage {url!r}: expected file:///ABSOLUTE/FOLDER")
    return Storage(Path(unquote(parts.path)), url)


def write_json(path: Path, data: Any) -> None:
    """``data`` as JSON at ``path``, all at once: written beside it, then renamed."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Storage:
    """A folder of jobs (see the module's docstring for what a job's folder holds)."""

    root: Path
    url: str

    @staticmethod
    def new_job_id() -> str:
        """An id nobody can guess (144 random bits)."""
        return secrets.token_urlsafe(18)

    def folder(self, job_id: str) -> Path:
        """A job's folder (``JobNotFound`` for what is not a job id, so no path is made of it)."""
        if not isinstance(job_id, str) or not JOB_ID.fullmatch(job_id):
            raise JobNotFound(f"no job {str(job_id)[:70]!r}")
        return self.root / job_id

    def create(self, job_id: str, manifest: dict[str, Any]) -> Path:
        """A new job's folder with its manifest; the root is made (owner only) if missing."""
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        folder = self.folder(job_id)
        folder.mkdir(mode=0o700)
        (folder / "outcomes").mkdir()
        (folder / "files").mkdir()
        write_json(folder / MANIFEST, manifest)
        return folder

    def manifest(self, job_id: str) -> dict[str, Any]:
        try:
            found: dict[str, Any] = read_json(self.folder(job_id) / MANIFEST)
        except FileNotFoundError:
            raise JobNotFound(
                f"no job {job_id!r} in {self.url} (never made here, or removed after its "
                "retention time)"
            ) from None
        return found

    def files(self, job_id: str) -> Path:
        return self.folder(job_id) / "files"

    def put_outcome(self, job_id: str, index: int, ok: bool, data: dict[str, Any]) -> None:
        """Student ``index``'s outcome (a later one replaces an earlier one: a retried task)."""
        outcomes = self.folder(job_id) / "outcomes"
        write_json(outcomes / f"{index:05d}.{'ok' if ok else 'failed'}.json", data)
        (outcomes / f"{index:05d}.{'failed' if ok else 'ok'}.json").unlink(missing_ok=True)

    def outcome_names(self, job_id: str) -> list[str]:
        """The outcome files so far (``00007.ok.json``, ``00003.failed.json``), unordered."""
        try:
            return [n for n in os.listdir(self.folder(job_id) / "outcomes") if n[0] != "."]
        except FileNotFoundError:
            raise JobNotFound(f"no job {job_id!r} in {self.url}") from None

    def outcome(self, job_id: str, name: str) -> dict[str, Any]:
        found: dict[str, Any] = read_json(self.folder(job_id) / "outcomes" / name)
        return found

    def has_outcome(self, job_id: str, index: int) -> bool:
        outcomes = self.folder(job_id) / "outcomes"
        return any((outcomes / f"{index:05d}.{s}.json").exists() for s in ("ok", "failed"))

    def claim(self, job_id: str, what: str) -> bool:
        """True for the first process to claim ``what`` of a job (a file made exclusively)."""
        try:
            fd = os.open(self.folder(job_id) / f"{what}.claim", os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return False
        os.close(fd)
        return True

    def finished(self, job_id: str) -> dict[str, Any] | None:
        try:
            found: dict[str, Any] = read_json(self.folder(job_id) / FINISHED)
        except FileNotFoundError:
            return None
        return found

    def result(self, job_id: str) -> Path:
        return self.folder(job_id) / RESULT

    def remove(self, job_id: str) -> None:
        shutil.rmtree(self.folder(job_id), ignore_errors=True)

    def remove_expired(self, hours: float | None = None, now: float | None = None) -> list[str]:
        """Remove every job made more than ``hours`` (``retention_hours()``) ago; their ids."""
        limit = (now if now is not None else time.time()) - 3600 * retention_hours(hours)
        try:
            names = os.listdir(self.root)
        except FileNotFoundError:
            return []
        removed = []
        for name in names:
            if not JOB_ID.fullmatch(name):
                continue  # not ours: left alone
            try:
                made = float(self.manifest(name).get("created", 0))
            except (JobNotFound, ValueError, OSError):
                # a folder without a (readable) manifest: judged by its own age
                try:
                    made = (self.root / name).stat().st_mtime
                except OSError:
                    continue
            if made < limit:
                self.remove(name)
                removed.append(name)
        return removed
