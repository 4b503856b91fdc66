"""What every `khlang` command shares: settings, the service context, JSON output."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from catalog import db
from catalog.settings import Settings, SettingsError, load_settings


def load_cli_settings(data_dir: str | None) -> Settings:
    try:
        return load_settings(overrides={"DATA_DIR": data_dir} if data_dir else None)
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None


@contextmanager
def service_context(obj: dict[str, Any], user: str | None = None) -> Iterator[Any]:
    from catalog.services import Catalog, Context, ServiceError, ValidationFailed

    settings = obj["settings"]
    if db.current_revision(db.make_engine(settings.database_url)) is None:
        raise click.ClickException("The catalogue is not initialised; run `khlang init` first.")
    catalog = Catalog.open(settings)
    try:
        from catalog.services.search import drain_outbox

        drain_outbox(catalog)  # repairs the index after a crash between commit and indexing
        yield Context(catalog, user=user, lang=settings.DEFAULT_LANGUAGE, system=user is None)
    except ValidationFailed as exc:
        lines = [f"  {field}: {msgs}" for field, msgs in exc.localised_errors("en").items()]
        raise click.ClickException("invalid input:\n" + "\n".join(lines)) from None
    except ServiceError as exc:
        raise click.ClickException(exc.message) from None
    finally:
        catalog.close()


def print_json(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2))
