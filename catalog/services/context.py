"""The running catalogue (engine, storage, index) and the per-call context of a service."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, event, update
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

from catalog import db
from catalog.models import CatalogueChange
from catalog.settings import Settings
from catalog.storage import Storage, open_storage

if TYPE_CHECKING:
    from search.base import SearchBackend


@dataclass
class Catalog:
    """Everything a service needs, built once per process from the settings."""

    settings: Settings
    engine: Engine
    storage: Storage
    _sessions: sessionmaker[Session] = field(init=False, repr=False)
    _search: Any = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        event.listen(self._sessions, "after_flush", _mark_written)
        event.listen(self._sessions, "do_orm_execute", _mark_statement)

    @property
    def search(self) -> SearchBackend:
        """The search backend named by SEARCH_BACKEND, opened on first use."""
        if self._search is None:
            if self.settings.SEARCH_BACKEND == "postgresql":
                from search.pg_backend import PostgresBackend

                self._search = PostgresBackend(self.engine)
            else:
                from search.whoosh_backend import WhooshBackend

                self._search = WhooshBackend(self.settings.index_dir)
        return self._search

    @classmethod
    def open(cls, settings: Settings) -> Catalog:
        """Connect to the configured database and store; creates nothing (see `khlang init`)."""
        engine = db.make_engine(settings.database_url)
        storage = open_storage(
            settings.storage_url, s3_endpoint_url=settings.S3_ENDPOINT_URL or None
        )
        return cls(settings=settings, engine=engine, storage=storage)

    @contextmanager
    def transaction(self, *, index: bool = True) -> Iterator[Session]:
        """One unit of work: commits on success, rolls back everything on any error.

        After the commit, datasets the transaction queued in the search outbox are indexed
        (unless `index` is False, for the outbox's own bookkeeping).
        """
        with self._sessions.begin() as session:
            yield session
            queued = session.info.pop("search_outbox", False)
            session.flush()
            if session.info.pop("wrote", False):
                # In the same transaction as the change: a reader who sees the old count can
                # only have read the old data (see `changes`).
                session.execute(
                    update(CatalogueChange)
                    .where(CatalogueChange.id == 1)
                    .values(counter=CatalogueChange.counter + 1)
                )
        if index and queued:
            from catalog.services.search import drain_outbox

            drain_outbox(self)

    def changes(self) -> int:
        """How many write transactions the catalogue has committed (every process's): when it
        has not moved, nothing a reader saw has changed. One indexed read of one row."""
        with self.engine.connect() as conn:
            return conn.exec_driver_sql(_CHANGES).scalar_one()

    @contextmanager
    def reader(self) -> Iterator[Session]:
        """A session for reads only; it is rolled back at the end."""
        with self._sessions() as session:
            yield session

    def close(self) -> None:
        if self._search is not None:
            self._search.close()
            self._search = None
        self.engine.dispose()


_CHANGES = "SELECT counter FROM catalogue_change WHERE id = 1"


def _mark_written(session: Session, flush_context: Any) -> None:
    session.info["wrote"] = True


def _mark_statement(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info["wrote"] = True


@dataclass(frozen=True)
class Context:
    """Who calls a service and in which language they want messages.

    :param user: the acting user's name, or None for an anonymous visitor.
    :param system: True for trusted local operations (``khlang demo``, migrations), which bypass
        permission checks; never set from a web request.
    :param base_url: the address the caller reached the site at (a web request's host), used in
        the links of results; empty means the SITE_URL setting.
    """

    catalog: Catalog
    user: str | None = None
    lang: str = "th"
    system: bool = False
    base_url: str = ""

    @property
    def site_url(self) -> str:
        """Base URL for links in results, without a trailing slash."""
        return (self.base_url or self.catalog.settings.SITE_URL).rstrip("/")
