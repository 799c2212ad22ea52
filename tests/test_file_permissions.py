"""Only Sam's own user can read its data: secrets and databases 0600, folders 0700, from the
moment they exist (the process umask is set to 0 here, so nothing relies on it)."""
from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from bot.config import ensure_private_dir, load_settings, secret_from_env_or_file
from bot.store.db import ensure_private_file, open_db


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def no_umask():
    old = os.umask(0)
    yield
    os.umask(old)


def test_secret_files_are_created_0600_in_one_step(data_dir, monkeypatch):
    monkeypatch.delenv("SAM_TEST_SECRET", raising=False)
    opened, chmodded = [], []
    real_open, real_chmod = os.open, os.chmod

    def spy_open(path, flags, mode=0o777, *args, **kwargs):
        opened.append((str(path), flags, mode))
        return real_open(path, flags, mode, *args, **kwargs)

    def spy_chmod(path, *args, **kwargs):
        chmodded.append(str(path))
        return real_chmod(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", spy_open)
    monkeypatch.setattr(os, "chmod", spy_chmod)
    secret = secret_from_env_or_file("SAM_TEST_SECRET", data_dir, "test.key")

    path = data_dir / "secrets" / "test.key"
    assert len(secret) >= 32 and path.read_bytes().strip() == secret
    assert mode(path) == 0o600
    assert mode(data_dir / "secrets") == 0o700 and mode(data_dir) == 0o700
    in_secrets = data_dir / "secrets"
    created = [(flags, m) for name, flags, m in opened if Path(name).parent == in_secrets]
    assert created and all(flags & os.O_CREAT and flags & os.O_EXCL and m == 0o600 for flags, m in created)
    assert not [name for name in chmodded if Path(name).parent == in_secrets]  # never created wider, then narrowed
    assert not list((data_dir / "secrets").glob("*.tmp"))
    assert secret_from_env_or_file("SAM_TEST_SECRET", data_dir, "test.key") == secret  # generated once


def test_a_secret_created_by_another_process_first_is_used(data_dir, monkeypatch):
    monkeypatch.delenv("SAM_TEST_SECRET", raising=False)
    secrets_dir = data_dir / "secrets"
    secrets_dir.mkdir(parents=True)
    (secrets_dir / "test.key").write_text("van-een-ander-proces\n")
    assert secret_from_env_or_file("SAM_TEST_SECRET", data_dir, "test.key") == b"van-een-ander-proces"
    assert mode(secrets_dir) == 0o700  # an older, wider secrets folder is narrowed


def test_processes_starting_together_share_one_secret(data_dir, monkeypatch):
    monkeypatch.delenv("SAM_TEST_SECRET", raising=False)
    results, errors = [], []

    def worker():
        try:
            results.append(secret_from_env_or_file("SAM_TEST_SECRET", data_dir, "race.key"))
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(16)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert not errors and len(set(results)) == 1 and len(results) == 16
    assert mode(data_dir / "secrets" / "race.key") == 0o600


def test_secret_from_the_environment_writes_no_file(data_dir, monkeypatch):
    monkeypatch.setenv("SAM_TEST_SECRET", "uit-de-omgeving")
    assert secret_from_env_or_file("SAM_TEST_SECRET", data_dir, "test.key") == b"uit-de-omgeving"
    assert not (data_dir / "secrets" / "test.key").exists()


def test_data_dir_0700_and_database_files_0600(data_dir):
    db = open_db(load_settings().db_path)
    db["settings_kv"].insert({"key": "k", "value": "v"})  # the write-ahead log and shm exist now
    assert mode(data_dir) == 0o700
    files = [data_dir / name for name in ("sam.db", "sam.db-wal", "sam.db-shm")]
    assert all(path.exists() for path in files)
    assert {path.name: mode(path) for path in files} == {path.name: 0o600 for path in files}


def test_ensure_private_file_for_the_tracker_db_and_logs(data_dir, tmp_path):
    settings = load_settings()
    log = ensure_private_file(settings.log_dir / "rasa.log")
    assert mode(log) == 0o600 and mode(settings.log_dir) == 0o700
    tracker = ensure_private_file(settings.tracker_db_path)
    assert mode(tracker) == 0o600 and tracker.stat().st_size == 0  # an empty file is an empty database
    old = tmp_path / "old.log"
    old.write_text("bestaand")
    old.chmod(0o644)
    ensure_private_file(old)
    assert mode(old) == 0o600 and old.read_text() == "bestaand"  # tightened, content kept


def test_an_existing_database_of_an_older_version_is_tightened(data_dir):
    path = load_settings().db_path
    open_db(path).conn.close()
    path.chmod(0o644)
    open_db(path)
    assert mode(path) == 0o600


def test_ensure_private_dir_leaves_existing_folders_alone(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    ensure_private_dir(shared)
    assert mode(shared) == 0o755
    assert mode(ensure_private_dir(tmp_path / "new" / "data")) == 0o700
