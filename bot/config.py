"""Settings from the environment, with safe local defaults.

Every path is built from this file's location, never from the working directory.
"""
from __future__ import annotations

import os
import secrets
import stat
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BOT_DIR = ROOT / "bot"


def _dotenv(path: Path) -> dict:
    """KEY=value lines of a .env file ({} when there is none)."""
    values = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                key, value = line.split("=", 1)
                values[key.strip()] = value.strip().strip('"').strip("'")
    return values


def _content_dir() -> Path:
    """SAM_CONTENT_DIR (environment, else .env): the content folder Sam reads and the dashboard edits.
    Default: the repository's content/. Read once at import, before anything loads content; a
    relative path counts from the repository root. Tests point every process at a copy."""
    value = os.environ.get("SAM_CONTENT_DIR", "").strip() or _dotenv(ROOT / ".env").get("SAM_CONTENT_DIR", "")
    return (ROOT / value).resolve() if value else ROOT / "content"


CONTENT_DIR = _content_dir()
MODELS_DIR = ROOT / "models"
REPORTS_DIR = ROOT / "reports"
CONFIG_FILE = ROOT / "config.yml"
DOMAIN_FILE = ROOT / "domain.yml"
ENDPOINTS_FILE = ROOT / "endpoints.yml"
CREDENTIALS_FILE = ROOT / "credentials.yml"
NLU_DIR = BOT_DIR / "data" / "nlu"
# Blind risk rounds after their one use: reported as their own sets, and training data for the
# disclosure detector (bot/risk/rounds.py).
RETIRED_DIR = BOT_DIR / "data" / "retired"
STORIES_DIR = BOT_DIR / "stories"
MODEL_NAME = "sam"

# Keep TensorFlow small and quiet on a 2-core machine. Set before TensorFlow is imported.
TF_ENVIRONMENT = {
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "TF_INTRA_OP_PARALLELISM_THREADS": "2",
    "TF_INTER_OP_PARALLELISM_THREADS": "2",
    "OMP_NUM_THREADS": "2",
    "TF_ENABLE_ONEDNN_OPTS": "0",
    "PYTHONWARNINGS": "ignore",
    "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
    "RASA_TELEMETRY_ENABLED": "false",  # no telemetry or error reports leave this machine
}


def apply_tf_environment() -> None:
    for key, value in TF_ENVIRONMENT.items():
        os.environ.setdefault(key, value)


def load_dotenv(path: Path = ROOT / ".env") -> None:
    """Reads KEY=value lines from .env (if present) without overriding the real environment."""
    for key, value in _dotenv(path).items():
        os.environ.setdefault(key, value)


def _env(name: str, default: str) -> str:
    value = os.environ.get(name, "").strip()
    return value or default


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    rasa_url: str
    rasa_port: int
    action_port: int
    rasa_auth_token: str
    rasa_timeout: float  # seconds before the fail-safe answers an unanswered message
    rasa_request_timeout: float  # seconds one request to Rasa may take before it is given up
    telegram_token: str
    telegram_api_base_url: str
    telegram_webhook_url: str
    telegram_webhook_secret: str
    telegram_webhook_port: int
    retention_days: int
    escalation_retention_days: int  # after this, escalation records become anonymous weekly counts
    flood_messages: int
    flood_seconds: float
    timezone: str
    previous_encryption_keys: tuple = ()  # SAM_ENCRYPTION_KEY_PREVIOUS: still readable during a rotation
    # The moderators' dashboard (bot/dashboard/)
    dashboard_host: str = "127.0.0.1"
    dashboard_port: int = 8000
    dashboard_url: str = "http://127.0.0.1:8000"  # the address moderators open; links in alerts
    dashboard_session_minutes: int = 30  # a session ends after this long without a request
    dashboard_max_takeovers: int = 3  # chats one moderator may have taken over at the same time
    request_fallback_minutes: int = 10  # an unclaimed request for a person then gets the helplines
    moderator_chat_id: str = ""  # Telegram group for alerts about new cases; empty = no alerts

    @property
    def db_path(self) -> Path:
        return self.data_dir / "sam.db"

    @property
    def tracker_db_path(self) -> Path:
        return self.data_dir / "rasa_trackers.db"

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"


def load_settings() -> Settings:
    data_dir = Path(_env("SAM_DATA_DIR", str(ROOT / "data")))
    rasa_port = int(_env("RASA_PORT", "5005"))
    dashboard_host = _env("DASHBOARD_HOST", "127.0.0.1")
    dashboard_port = int(_env("DASHBOARD_PORT", "8000"))
    return Settings(
        data_dir=data_dir,
        rasa_url=_env("RASA_URL", f"http://127.0.0.1:{rasa_port}"),
        rasa_port=rasa_port,
        action_port=int(_env("ACTION_SERVER_PORT", "5055")),
        rasa_auth_token=os.environ.get("RASA_AUTH_TOKEN", "").strip(),
        rasa_timeout=float(_env("RASA_TIMEOUT_SECONDS", "2")),
        rasa_request_timeout=float(_env("RASA_REQUEST_TIMEOUT_SECONDS", "60")),
        telegram_token=os.environ.get("TELEGRAM_BOT_TOKEN", "").strip(),
        telegram_api_base_url=_env("TELEGRAM_API_BASE_URL", "https://api.telegram.org/bot"),
        telegram_webhook_url=os.environ.get("TELEGRAM_WEBHOOK_URL", "").strip(),
        telegram_webhook_secret=os.environ.get("TELEGRAM_WEBHOOK_SECRET", "").strip(),
        telegram_webhook_port=int(_env("TELEGRAM_WEBHOOK_PORT", "8443")),
        retention_days=int(_env("SAM_RETENTION_DAYS", "30")),
        escalation_retention_days=int(_env("SAM_ESCALATION_RETENTION_DAYS", "180")),
        flood_messages=int(_env("SAM_FLOOD_MESSAGES", "10")),
        flood_seconds=float(_env("SAM_FLOOD_SECONDS", "10")),
        timezone=_env("SAM_TIMEZONE", "Europe/Amsterdam"),
        previous_encryption_keys=tuple(
            k for k in os.environ.get("SAM_ENCRYPTION_KEY_PREVIOUS", "").split(",") if k.strip()),
        dashboard_host=dashboard_host,
        dashboard_port=dashboard_port,
        dashboard_url=_env("DASHBOARD_URL", f"http://{dashboard_host}:{dashboard_port}").rstrip("/"),
        dashboard_session_minutes=int(_env("DASHBOARD_SESSION_MINUTES", "30")),
        dashboard_max_takeovers=int(_env("DASHBOARD_MAX_TAKEOVERS", "3")),
        request_fallback_minutes=int(_env("SAM_REQUEST_FALLBACK_MINUTES", "10")),
        moderator_chat_id=os.environ.get("MODERATOR_CHAT_ID", "").strip(),
    )


def ensure_private_dir(path: Path) -> Path:
    """Creates a folder only its owner may enter (0700). An existing folder is left as it is:
    it may be an operator's choice (e.g. a mounted volume); the files inside are 0600 anyway."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        return path
    # The umask may have taken owner bits away (never added any); this only gives them back.
    os.chmod(path, 0o700)
    return path


def _read_secret(path: Path) -> bytes:
    # Another process may have just created the file and still be writing it.
    for _ in range(50):
        value = path.read_text().strip()
        if value:
            return value.encode()
        time.sleep(0.05)
    raise RuntimeError(f"secret file {path} is empty; delete it to generate a new one")


def secret_from_env_or_file(env_name: str, data_dir: Path, filename: str) -> bytes:
    """A secret from the environment, else one generated once into data/secrets/ (embedded default).

    The file is created with mode 0600 in one step (O_EXCL), so it is never readable by others,
    not even for a moment, and two processes starting together end up with the same secret."""
    value = os.environ.get(env_name, "").strip()
    if value:
        return value.encode()
    ensure_private_dir(data_dir)
    folder = data_dir / "secrets"
    ensure_private_dir(folder)
    if stat.S_IMODE(folder.stat().st_mode) & 0o077:
        folder.chmod(0o700)  # our own folder, made by an older version with the default mode
    path = folder / filename
    if path.exists():
        return _read_secret(path)
    # Written in full under a private temporary name, then published with link(), which fails
    # when the name exists: readers never see a half-written secret, the first writer wins.
    tmp = folder / f".{filename}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)
    try:
        with os.fdopen(fd, "w") as file:
            file.write(secrets.token_urlsafe(32))
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process was first: use its secret
        except OSError:
            # The file system cannot link: create the final name exclusively instead.
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)
            except FileExistsError:
                pass
            else:
                with os.fdopen(fd, "w") as file:
                    file.write(tmp.read_text())
                    file.flush()
                    os.fsync(file.fileno())
    finally:
        tmp.unlink(missing_ok=True)
    return _read_secret(path)
