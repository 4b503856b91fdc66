"""The `khlang` command line. Commands only parse arguments and call services."""

from __future__ import annotations

import json
import secrets
import sys
from pathlib import Path
from typing import Any

import click

from catalog import db
from catalog.cli.common import load_cli_settings, print_json, service_context
from catalog.settings import Settings


@click.group()
@click.option("--data-dir", envvar="KHLANG_DATA_DIR", help="Data folder (overrides DATA_DIR).")
@click.pass_context
def main(ctx: click.Context, data_dir: str | None) -> None:
    """Khlang (คลังข้อมูลเปิด): an open-data catalogue for Thai public agencies."""
    ctx.obj = {"settings": load_cli_settings(data_dir)}


@main.command()
@click.pass_obj
def init(obj: dict[str, Any]) -> None:
    """Create or upgrade the database, the search index folder and the file store."""
    from catalog.storage import open_storage

    settings: Settings = obj["settings"]
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    settings.index_dir.mkdir(parents=True, exist_ok=True)
    secret = settings.data_dir / "secret_key"
    if not settings.SECRET_KEY and not secret.exists():
        secret.write_text(secrets.token_hex(32))
        secret.chmod(0o600)
    engine = db.make_engine(settings.database_url)
    try:
        db.upgrade(engine)
    finally:
        engine.dispose()
    storage = open_storage(settings.storage_url, s3_endpoint_url=settings.S3_ENDPOINT_URL or None)
    ensure = getattr(storage, "ensure_bucket", None)
    if ensure:
        ensure()
    click.echo(
        f"Catalogue ready: database at revision {db.head_revision()}, data in {settings.data_dir}"
    )


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", type=int, help="Server processes (default: WORKERS, or cores + 1).")
@click.option("--threads", type=int, help="Threads per process (default: THREADS).")
@click.option("--debug", is_flag=True, help="Flask's development server instead of gunicorn.")
@click.pass_obj
def serve(
    obj: dict[str, Any],
    host: str,
    port: int,
    workers: int | None,
    threads: int | None,
    debug: bool,
) -> None:
    """Serve the catalogue over HTTP with gunicorn (SIGTERM stops it gracefully)."""
    from catalog.cli import server
    from catalog.settings import SettingsError, read_secret_key

    settings: Settings = obj["settings"]
    try:
        read_secret_key(settings)  # fail here, once, rather than in every worker
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None
    if debug or settings.DEBUG:
        server.serve_debug(settings, host, port)
        return
    if workers is not None and workers < 1 or threads is not None and threads < 1:
        raise click.BadParameter("--workers and --threads must be at least 1")
    server.serve(
        settings,
        host,
        port,
        workers or server.default_workers(settings),
        threads or settings.THREADS,
    )


@main.command()
@click.pass_obj
def demo(obj: dict[str, Any]) -> None:
    """Load the demo organisations, datasets and files (safe to run again)."""
    from catalog.demo import load_demo

    with service_context(obj) as ctx:
        counts = load_demo(ctx)
    click.echo("Demo data: " + ", ".join(f"{v} {k}" for k, v in counts.items()))


@main.group()
def user() -> None:
    """Manage accounts."""


@user.command("create")
@click.argument("name")
@click.option("--email", required=True)
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--fullname", default="")
@click.option("--sysadmin", is_flag=True, help="Give the account every right.")
@click.pass_obj
def user_create(
    obj: dict[str, Any], name: str, email: str, password: str, fullname: str, sysadmin: bool
) -> None:
    """Create an account."""
    from catalog import services

    with service_context(obj) as ctx:
        result = services.user_create(ctx, name, email, password, fullname, sysadmin)
    click.echo(f"Created user {result['name']}")


@main.group()
def token() -> None:
    """Manage API tokens."""


@token.command("create")
@click.argument("username")
@click.option("--name", "token_name", default="cli", show_default=True)
@click.option("--days", default=365, show_default=True, type=int, help="0 for no expiry.")
@click.pass_obj
def token_create(obj: dict[str, Any], username: str, token_name: str, days: int) -> None:
    """Create an API token for USERNAME and print it (it is shown only once)."""
    from catalog import services

    with service_context(obj) as ctx:
        click.echo(services.api_token_create(ctx, username, token_name, days or None))


@main.group()
def org() -> None:
    """Manage organisations."""


@org.command("create")
@click.argument("name")
@click.option("--title", required=True, help="Thai title.")
@click.option("--title-en", default="")
@click.option("--type", "org_type", default="other", show_default=True)
@click.option("--parent", default=None, help="Name of the parent organisation.")
@click.option("--admin", "admins", multiple=True, help="User to make admin (repeatable).")
@click.pass_obj
def org_create(
    obj: dict[str, Any],
    name: str,
    title: str,
    title_en: str,
    org_type: str,
    parent: str | None,
    admins: tuple[str, ...],
) -> None:
    """Create an organisation."""
    from catalog import services

    data = {"name": name, "title": title, "title_en": title_en, "org_type": org_type}
    if parent:
        data["parent"] = parent
    with service_context(obj) as ctx:
        services.organization_create(ctx, data)
        for admin in admins:
            services.member_create(ctx, name, admin, "admin")
    click.echo(f"Created organisation {name}")


@main.group()
def dataset() -> None:
    """List, show and export datasets."""


@dataset.command("list")
@click.option("--org", "organization", default=None)
@click.option("--limit", default=100, show_default=True, type=int)
@click.pass_obj
def dataset_list(obj: dict[str, Any], organization: str | None, limit: int) -> None:
    """List datasets: name, state, organisation and title."""
    from catalog import services

    with service_context(obj) as ctx:
        rows = services.dataset_list(ctx, organization=organization, limit=limit)
    for row in rows:
        flags = row["state"] + (",private" if row["private"] else "")
        click.echo(f"{row['name']}\t{flags}\t{row['organization']['name']}\t{row['title']}")


@dataset.command("show")
@click.argument("name")
@click.pass_obj
def dataset_show(obj: dict[str, Any], name: str) -> None:
    """Print a dataset as JSON."""
    from catalog import services

    with service_context(obj) as ctx:
        print_json(services.package_show(ctx, name))


@dataset.command("export")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--org", "organization", default=None)
@click.pass_obj
def dataset_export(obj: dict[str, Any], output: Path | None, organization: str | None) -> None:
    """Export every dataset's metadata as a JSON array (to a file or standard output)."""
    from catalog import services

    with service_context(obj) as ctx:
        rows = []
        offset = 0
        while batch := services.dataset_list(
            ctx, organization=organization, limit=500, offset=offset
        ):
            rows.extend(batch)
            offset += len(batch)
    text = json.dumps(rows, ensure_ascii=False, indent=2)
    if output:
        output.write_text(text + "\n", encoding="utf-8")
        click.echo(f"Exported {len(rows)} datasets to {output}", err=True)
    else:
        sys.stdout.write(text + "\n")


@main.group()
def storage() -> None:
    """The file store."""


@storage.command("sweep")
@click.option(
    "--older-than-hours",
    default=24.0,
    show_default=True,
    type=click.FloatRange(min=0),
    help="Keep unreferenced files stored more recently than this (a harvest may be using them).",
)
@click.option("--dry-run", is_flag=True, help="List what would be removed; remove nothing.")
@click.pass_obj
def storage_sweep(obj: dict[str, Any], older_than_hours: float, dry_run: bool) -> None:
    """Remove stored files no resource or dataset version refers to (failed or held harvests,
    replaced normalised CSVs)."""
    from datetime import timedelta

    from catalog.services.files import storage_sweep as sweep

    with service_context(obj) as ctx:
        result = sweep(ctx, timedelta(hours=older_than_hours), dry_run=dry_run)
    for key in result["removed"]:
        click.echo(key)
    if result["stopped_by_harvest"]:
        click.echo("Stopped: a harvest is running; run the sweep again once it has finished.")
    verb = "Would remove" if dry_run else "Removed"
    click.echo(
        f"{verb} {len(result['removed'])} files ({result['bytes']:,} bytes); "
        f"{result['recent']} unreferenced files are more recent than {older_than_hours:g} hours"
    )


def _register() -> None:
    from catalog.cli import harvest, search

    for command in (*harvest.COMMANDS, *search.COMMANDS):
        main.add_command(command)


_register()
