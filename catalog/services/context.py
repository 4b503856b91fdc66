"""The running catalogue (engine, storage, index) and the per-call context of a service."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from catalog import db
from catalog.settings import Settings
from catalog.storage import Storage, open_storage


@dataclass
class Catalog:
    """Everything a service needs, built once per process from the settings."""

    settings: Settings
    engine: Engine
    storage: Storage
    _sessions: sessionmaker[Session] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @classmethod
    def open(cls, settings: Settings) -> Catalog:
        """Connect to the configured database and store; creates nothing (see `khlang init`)."""
        engine = db.make_engine(settings.database_url)
        storage = open_storage(
            settings.storage_url, s3_endpoint_url=settings.S3_ENDPOINT_URL or None
        )
        return cls(settings=settings, engine=engine, storage=storage)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commits on success, rolls back everything on any error."""
        with self._sessions.begin() as session:
            yield session

    @contextmanager
    def reader(self) -> Iterator[Session]:
        """A session for reads only; it is rolled back at the end."""
        with self._sessions() as session:
            yield session

    def close(self) -> None:
        self.engine.dispose()


@dataclass(frozen=True)
class Context:
    """Who calls a service and in which language they want messages.

    :param user: the acting user's name, or None for an anonymous visitor.
    :param system: True for trusted local operations (``khlang demo``, migrations), which bypass
        permission checks; never set from a web request.
    """

    catalog: Catalog
    user: str | None = None
    lang: str = "th"
    system: bool = False
