"""One declared settings table: every setting has a name, a default, a type and help text.

Values come from, in order: the defaults below, an optional TOML file (``khlang.toml`` in the working
folder, or the file named by ``KHLANG_CONFIG``), then ``KHLANG_<NAME>`` environment variables (plain
``DATABASE_URL`` and friends are accepted too, as most hosting platforms set them).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class SettingsError(ValueError):
    """A setting has a bad value; the message names the setting."""


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str
    parse: Callable[[str], Any] = str


def _bool(value: str) -> bool:
    lowered = str(value).strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"expected true or false, got {value!r}")


def _lang(value: str) -> str:
    if value not in ("th", "en"):
        raise ValueError(f"expected 'th' or 'en', got {value!r}")
    return value


def _positive_int(value: str) -> int:
    number = int(value)
    if number <= 0:
        raise ValueError(f"expected a positive whole number, got {value!r}")
    return number


def _non_negative_int(value: str) -> int:
    number = int(value)
    if number < 0:
        raise ValueError(f"expected 0 or a positive whole number, got {value!r}")
    return number


def _ratelimit_storage_url(value: str) -> str:
    # The schemes of the `limits` library that every server process can see; memory:// counts
    # per process, so it is only for a single-process server.
    schemes = ("memory", "redis", "rediss", "redis+unix", "redis+sentinel", "redis+cluster")
    schemes += ("memcached", "mongodb", "mongodb+srv", "khlang+sqlite")
    if value and value.split("://", 1)[0] not in schemes:
        raise ValueError("expected an empty value, memory://, redis://..., memcached://...")
    return value


def _database_url(value: str) -> str:
    if value and not value.startswith(("sqlite", "postgresql")):
        raise ValueError("expected a sqlite:/// or postgresql+psycopg:// URL")
    return value


def _search_backend(value: str) -> str:
    if value not in ("whoosh", "postgresql"):
        raise ValueError(f"expected 'whoosh' or 'postgresql', got {value!r}")
    return value


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "DATA_DIR", "var", "Folder holding the SQLite database, the search index and local files."
    ),
    Setting(
        "DATABASE_URL",
        "",
        "SQLAlchemy URL of the catalogue database; empty means SQLite at DATA_DIR/khlang.db. "
        "For PostgreSQL: postgresql+psycopg://user:password@host:5432/khlang",
        _database_url,
    ),
    Setting(
        "STORAGE_URL",
        "",
        "Where files are stored: a local folder (empty means DATA_DIR/files) or s3://bucket/prefix.",
    ),
    Setting(
        "S3_ENDPOINT_URL",
        "",
        "Endpoint of an S3-compatible store (MinIO, moto, ...); empty means AWS.",
    ),
    Setting("INDEX_DIR", "", "Folder of the Whoosh search index; empty means DATA_DIR/index."),
    Setting(
        "SEARCH_BACKEND",
        "whoosh",
        "Search backend: whoosh (embedded) or postgresql (shared, needs DATABASE_URL on PostgreSQL).",
        _search_backend,
    ),
    Setting(
        "SECRET_KEY",
        "",
        "Secret used to sign sessions; empty reads DATA_DIR/secret_key, which `khlang init` "
        "writes. The web app refuses to start without either.",
    ),
    Setting("SITE_TITLE_TH", "คลังข้อมูลเปิด", "Site title in Thai."),
    Setting("SITE_TITLE_EN", "Khlang Open Data", "Site title in English."),
    Setting("SITE_URL", "http://127.0.0.1:5000", "Public base URL, used in API links and feeds."),
    Setting(
        "DEFAULT_LANGUAGE",
        "th",
        "Language of the UI and messages when none is asked: th or en.",
        _lang,
    ),
    Setting(
        "MAX_UPLOAD_MB",
        200,
        "Largest file accepted by an upload or a harvest fetch, in MiB.",
        _positive_int,
    ),
    Setting(
        "RATE_LIMIT_PER_MINUTE",
        600,
        "Requests a client (one IP address) may make in one minute, counted across all server "
        "processes; 0 turns the limit off (e.g. behind a gateway that limits already).",
        _non_negative_int,
    ),
    Setting(
        "DATASTORE_MEMORY_MB",
        256,
        "Memory each server process may use to hold searched datastore tables (decoded from "
        "their Parquet files) so filtered pages answer without reading the file; 0: never.",
        _non_negative_int,
    ),
    Setting(
        "API_CACHE_MB",
        64,
        "Memory each server process may use to keep answers of the read API for anonymous "
        "callers, reused until the catalogue next changes; 0 turns the cache off.",
        _non_negative_int,
    ),
    Setting(
        "RATELIMIT_STORAGE_URL",
        "",
        "Where request counts are kept: empty means a SQLite file DATA_DIR/ratelimit.db, shared "
        "by the processes of one machine; redis://host:6379 or memcached://host:11211 when "
        "several machines serve the catalogue.",
        _ratelimit_storage_url,
    ),
    Setting(
        "PROXY_HOPS",
        0,
        "Reverse proxies in front of the server whose X-Forwarded-For/-Proto/-Host are trusted "
        "(1 behind one nginx); 0 trusts none, so the client address is the connecting one.",
        _non_negative_int,
    ),
    Setting(
        "WORKERS",
        0,
        "Server processes of `khlang serve`; 0 means one per CPU core plus one.",
        _non_negative_int,
    ),
    Setting(
        "THREADS",
        4,
        "Threads per server process of `khlang serve`.",
        _positive_int,
    ),
    Setting("DEBUG", False, "Flask debug mode; never on in production.", _bool),
)

_BY_NAME = {s.name: s for s in SETTINGS}
_ENV_ALIASES = {"DATABASE_URL", "STORAGE_URL", "S3_ENDPOINT_URL", "SECRET_KEY"}


@dataclass(frozen=True)
class Settings:
    values: Mapping[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def data_dir(self) -> Path:
        return Path(self.values["DATA_DIR"])

    @property
    def database_url(self) -> str:
        return self.values["DATABASE_URL"] or f"sqlite:///{self.data_dir / 'khlang.db'}"

    @property
    def storage_url(self) -> str:
        return self.values["STORAGE_URL"] or str(self.data_dir / "files")

    @property
    def index_dir(self) -> Path:
        return Path(self.values["INDEX_DIR"] or self.data_dir / "index")

    def replace(self, **changes: Any) -> Settings:
        return load_settings(overrides={**self.values, **changes}, environ={}, config_file=None)


def _coerce(setting: Setting, raw: Any) -> Any:
    if raw is None:
        return setting.default
    if isinstance(raw, str) or not isinstance(raw, type(setting.default)):
        try:
            return setting.parse(str(raw))
        except ValueError as exc:
            raise SettingsError(f"Setting {setting.name} is invalid: {exc}") from None
    return raw


def load_settings(
    *,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
    config_file: Path | None | str = "auto",
) -> Settings:
    """Read the settings table from defaults, a TOML file, the environment and ``overrides``.

    :param overrides: values that win over everything (tests, the CLI's --data-dir).
    :param environ: the environment to read (``os.environ`` when omitted).
    :param config_file: a TOML file; "auto" looks for KHLANG_CONFIG or ./khlang.toml.
    :raises SettingsError: naming the setting, for an unknown name or a bad value.
    """
    env = os.environ if environ is None else environ
    raw: dict[str, Any] = {}
    if config_file == "auto":
        config_file = env.get("KHLANG_CONFIG") or (
            "khlang.toml" if Path("khlang.toml").exists() else None
        )
    if config_file:
        path = Path(config_file)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise SettingsError(f"Cannot read settings file {path}: {exc}") from None
        for key, value in data.items():
            if key.upper() not in _BY_NAME:
                raise SettingsError(f"Unknown setting {key!r} in {path}")
            raw[key.upper()] = value
    for name in _BY_NAME:
        if f"KHLANG_{name}" in env:
            raw[name] = env[f"KHLANG_{name}"]
        elif name in _ENV_ALIASES and env.get(name):
            raw[name] = env[name]
    for key, value in (overrides or {}).items():
        if key not in _BY_NAME:
            raise SettingsError(f"Unknown setting {key!r}")
        raw[key] = value
    return Settings({s.name: _coerce(s, raw.get(s.name)) for s in SETTINGS})


def read_secret_key(settings: Settings) -> str:
    """The secret that signs sessions: SECRET_KEY, else the file `khlang init` wrote.

    Never invented here: a key made up per process would differ between server processes (and
    change at every restart), silently logging everyone out.

    :raises SettingsError: when neither exists, telling the operator what to run.
    """
    if settings.SECRET_KEY:
        return settings.SECRET_KEY
    path = settings.data_dir / "secret_key"
    try:
        key = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        key = ""
    if not key:
        raise SettingsError(
            f"Setting SECRET_KEY is empty and {path} does not exist: run `khlang init` "
            "(it writes that file) or set SECRET_KEY."
        )
    return key
