from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from catalog.services import Catalog, Context
from catalog.settings import Settings, load_settings
from tests.servers import moto_s3_server, postgres_server

# boto3 must never find real credentials or a real endpoint from the machine
os.environ.setdefault("AWS_ACCESS_KEY_ID", "khlang-test")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "khlang-test")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """URL of the `postgres` database of a PostgreSQL server started for this test run."""
    with postgres_server() as url:
        yield url


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """Endpoint URL of moto's S3 server started for this test run."""
    with moto_s3_server() as url:
        yield url


# --- the catalogue, on SQLite and on PostgreSQL -------------------------------------------


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite database file, copied for each test (migrating is the slow part)."""
    from catalog import db

    path = tmp_path_factory.mktemp("sqlite-template") / "khlang.db"
    engine = db.make_engine(f"sqlite:///{path}")
    db.upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_template(pg_server_url: str) -> str:
    """Name of a migrated PostgreSQL template database."""
    from sqlalchemy import text

    from catalog import db

    admin = db.make_engine(pg_server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("CREATE DATABASE khlang_template"))
    admin.dispose()
    engine = db.make_engine(pg_server_url.rsplit("/", 1)[0] + "/khlang_template")
    db.upgrade(engine)
    engine.dispose()
    return "khlang_template"


def _fresh_pg_database(request: pytest.FixtureRequest) -> Iterator[str]:
    from sqlalchemy import text

    from catalog import db

    server = request.getfixturevalue("pg_server_url")
    template = request.getfixturevalue("pg_template")
    name = f"t_{uuid.uuid4().hex[:16]}"
    admin = db.make_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    try:
        yield server.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated, empty database: SQLite, then PostgreSQL."""
    if request.param == "sqlite":
        target = tmp_path / "khlang.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), target)
        yield f"sqlite:///{target}"
    else:
        yield from _fresh_pg_database(request)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return load_settings(
        # `khlang init` would write the secret key; the app never invents one.
        overrides={
            "DATA_DIR": str(tmp_path),
            "DATABASE_URL": database_url,
            "SECRET_KEY": "khlang-test-secret",
        },
        environ={},
        config_file=None,
    )


@pytest.fixture
def catalog(settings: Settings) -> Iterator[Catalog]:
    """A running catalogue on a clean database, with local file storage in a temp folder."""
    cat = Catalog.open(settings)
    try:
        yield cat
    finally:
        cat.close()


@pytest.fixture
def system(catalog: Catalog) -> Context:
    """A trusted context (like the CLI's), for setting up test data."""
    return Context(catalog, system=True, lang="en")
