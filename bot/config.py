"""Settings from the environment, with safe local defaults.

Every path is built from this file's location, never from the working directory.
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BOT_DIR = ROOT / "bot"
CONTENT_DIR = ROOT / "content"
MODELS_DIR = ROOT / "models"
REPORTS_DIR = ROOT / "reports"
CONFIG_FILE = ROOT / "config.yml"
DOMAIN_FILE = ROOT / "domain.yml"
ENDPOINTS_FILE = ROOT / "endpoints.yml"
CREDENTIALS_FILE = ROOT / "credentials.yml"
NLU_DIR = BOT_DIR / "data" / "nlu"
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
    if not path.exists():
        return
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            os.environ.setdefault(key.strip(), value.strip().strip('"').strip("'"))


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
    rasa_timeout: float
    telegram_token: str
    telegram_api_base_url: str
    telegram_webhook_url: str
    telegram_webhook_secret: str
    telegram_webhook_port: int
    retention_days: int
    flood_messages: int
    flood_seconds: float
    timezone: str

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
    return Settings(
        data_dir=data_dir,
        rasa_url=_env("RASA_URL", f"http://127.0.0.1:{rasa_port}"),
        rasa_port=rasa_port,
        action_port=int(_env("ACTION_SERVER_PORT", "5055")),
        rasa_auth_token=os.environ.get("RASA_AUTH_TOKEN", "").strip(),
        rasa_timeout=float(_env("RASA_TIMEOUT_SECONDS", "3")),
        telegram_token=os.environ.get("TELEGRAM_BOT_TOKEN", "").strip(),
        telegram_api_base_url=_env("TELEGRAM_API_BASE_URL", "https://api.telegram.org/bot"),
        telegram_webhook_url=os.environ.get("TELEGRAM_WEBHOOK_URL", "").strip(),
        telegram_webhook_secret=os.environ.get("TELEGRAM_WEBHOOK_SECRET", "").strip(),
        telegram_webhook_port=int(_env("TELEGRAM_WEBHOOK_PORT", "8443")),
        retention_days=int(_env("SAM_RETENTION_DAYS", "30")),
        flood_messages=int(_env("SAM_FLOOD_MESSAGES", "10")),
        flood_seconds=float(_env("SAM_FLOOD_SECONDS", "10")),
        timezone=_env("SAM_TIMEZONE", "Europe/Amsterdam"),
    )


def secret_from_env_or_file(env_name: str, data_dir: Path, filename: str) -> bytes:
    """A secret from the environment, else one generated once into data/ (embedded default)."""
    value = os.environ.get(env_name, "").strip()
    if value:
        return value.encode()
    path = data_dir / "secrets" / filename
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(secrets.token_urlsafe(32))
        tmp.chmod(0o600)
        tmp.replace(path)
    return path.read_text().strip().encode()
