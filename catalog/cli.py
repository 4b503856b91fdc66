"""The `khlang` command line. Commands only parse arguments and call services."""

from __future__ import annotations

import json
import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from catalog import db
from catalog.settings import Settings, SettingsError, load_settings


def _settings(data_dir: str | None) -> Settings:
    try:
        return load_settings(overrides={"DATA_DIR": data_dir} if data_dir else None)
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None


@contextmanager
def _context(obj: dict[str, Any], user: str | None = None) -> Iterator[Any]:
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


def _print_json(value: Any) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=2))


@click.group()
@click.option("--data-dir", envvar="KHLANG_DATA_DIR", help="Data folder (overrides DATA_DIR).")
@click.pass_context
def main(ctx: click.Context, data_dir: str | None) -> None:
    """Khlang (คลังข้อมูลเปิด): an open-data catalogue for Thai public agencies."""
    ctx.obj = {"settings": _settings(data_dir)}


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
@click.pass_obj
def serve(obj: dict[str, Any], host: str, port: int) -> None:
    """Serve the catalogue over HTTP (development server)."""
    from web import create_app

    app = create_app(obj["settings"])
    app.run(host=host, port=port, debug=obj["settings"].DEBUG, use_reloader=False)


@main.command()
@click.pass_obj
def demo(obj: dict[str, Any]) -> None:
    """Load the demo organisations, datasets and files (safe to run again)."""
    from catalog.demo import load_demo

    with _context(obj) as ctx:
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

    with _context(obj) as ctx:
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

    with _context(obj) as ctx:
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
    with _context(obj) as ctx:
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

    with _context(obj) as ctx:
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

    with _context(obj) as ctx:
        _print_json(services.package_show(ctx, name))


@dataset.command("export")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--org", "organization", default=None)
@click.pass_obj
def dataset_export(obj: dict[str, Any], output: Path | None, organization: str | None) -> None:
    """Export every dataset's metadata as a JSON array (to a file or standard output)."""
    from catalog import services

    with _context(obj) as ctx:
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
def harvest() -> None:
    """Publish datasets from a harvest config (YAML) and inspect harvest jobs."""


def _load_config(path: Path) -> Any:
    from harvesters.config import ConfigError, load_config

    try:
        return load_config(path)
    except ConfigError as exc:
        lines = [f"  {problem}" for problem in exc.errors]
        raise click.ClickException(
            f"{path}: invalid harvest config:\n" + "\n".join(lines)
        ) from None


class _ProgressPrinter:
    """One line per item as it is published, and rows per second per source."""

    def __init__(self) -> None:
        self.rows = 0
        self.started = 0.0

    def __call__(self, event: str, **info: Any) -> None:
        import time

        if event == "source":
            self.rows, self.started = 0, time.monotonic()
            click.echo(f"▶ {info['source']} (job {info['job'][:8]})", err=True)
        elif event == "item":
            outcome = info["outcome"]
            self.rows += outcome.rows
            elapsed = max(time.monotonic() - self.started, 1e-9)
            rate = (
                f"{outcome.rows / max(info['seconds'], 1e-9):,.0f} rows/s" if outcome.rows else ""
            )
            click.echo(
                f"  {outcome.status:<13} {outcome.remote_id}  {outcome.rows:,} rows {rate}"
                f"  [{self.rows:,} rows, {self.rows / elapsed:,.0f} rows/s overall]",
                err=True,
            )
            for error in outcome.errors[:5]:
                click.echo(f"      ! {error.get('message_en')}", err=True)


def _summary_table(summaries: list[dict[str, Any]]) -> None:
    statuses = ["created", "updated", "unchanged", "held", "failed", "withdrawn"]
    dry = [s for s in summaries if s["dry_run"]]
    if dry:
        statuses = ["would-create", "would-update", "unchanged", "held", "failed", "would-withdraw"]
    click.echo(
        "source".ljust(24) + "status".ljust(10) + "".join(h[:12].rjust(13) for h in statuses)
    )
    for summary in summaries:
        counts = summary["counts"]
        cells = "".join(str(counts.get(h, 0)).rjust(13) for h in statuses)
        click.echo(summary["source"][:23].ljust(24) + summary["status"].ljust(10) + cells)
        for error in summary["errors"]:
            click.echo(f"  ! {error.get('message_en')}")


@harvest.command("run")
@click.argument("config_path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Fetch, normalise and validate; publish nothing.")
@click.option("--source", "only", multiple=True, help="Run only this source id (repeatable).")
@click.option("--user", default=None, help="Publish as this user (default: the local operator).")
@click.option("--json", "as_json", is_flag=True, help="Print the job summaries as JSON.")
@click.pass_obj
def harvest_run(
    obj: dict[str, Any],
    config_path: Path,
    dry_run: bool,
    only: tuple[str, ...],
    user: str | None,
    as_json: bool,
) -> None:
    """Harvest the sources of CONFIG_PATH into the catalogue."""
    from catalog.services.harvest import harvest_run as run

    config = _load_config(config_path)
    with _context(obj, user=user) as ctx:
        summaries = run(ctx, config, dry_run=dry_run, only=list(only), progress=_ProgressPrinter())
    if as_json:
        _print_json(summaries)
    else:
        _summary_table(summaries)
    if any(s["status"] != "done" or s["counts"].get("failed") for s in summaries):
        sys.exit(2)


@harvest.command("run-due")
@click.pass_obj
def harvest_run_due(obj: dict[str, Any]) -> None:
    """Run the stored sources that are due by their frequency (for cron)."""
    from catalog.services.harvest import harvest_run_due as run_due

    with _context(obj) as ctx:
        summaries = run_due(ctx, progress=_ProgressPrinter())
    _summary_table(summaries)


@harvest.command("jobs")
@click.option("--limit", default=20, show_default=True, type=int)
@click.pass_obj
def harvest_jobs(obj: dict[str, Any], limit: int) -> None:
    """List the latest harvest jobs."""
    from catalog.services.harvest import harvest_jobs as jobs

    with _context(obj) as ctx:
        for job in jobs(ctx, limit=limit):
            counts = ", ".join(f"{k} {v}" for k, v in sorted(job["counts"].items()))
            dry = " (dry run)" if job["dry_run"] else ""
            click.echo(
                f"{job['id'][:8]}  {job['started'][:19]}  {job['source']:<24} {job['status']}{dry}  {counts}"
            )


@harvest.command("report")
@click.argument("job_id")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def harvest_report(obj: dict[str, Any], job_id: str, as_json: bool) -> None:
    """Show what a harvest job did to each item, with validation errors by row and field."""
    from catalog.services.harvest import harvest_report as report

    with _context(obj) as ctx:
        result = report(ctx, job_id)
    if as_json:
        _print_json(result)
        return
    click.echo(
        f"job {result['id']}  source {result['source']}  {result['status']}  rows {result['rows']:,}"
    )
    for error in result["errors"]:
        click.echo(f"  ! {error.get('message_en')}")
    for item in result["objects"]:
        click.echo(
            f"- {item['status']:<13} {item['remote_id']}  {item['rows']:,} rows  {item['duration_ms']} ms"
        )
        for error in item["errors"]:
            click.echo(f"    ! {error.get('message_en')}")
        for name, res in (item["report"].get("resources") or {}).items():
            validation = res.get("validation") or {}
            for finding in validation.get("errors", [])[:20]:
                where = f"row {finding.get('source_row') or finding.get('row')}"
                click.echo(
                    f"    {name}: {where}, field {finding.get('field')}: {finding.get('type')}: {finding.get('message_en')}"
                )


@main.command("import-metadata")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--org", "organization", default=None, help="Organisation of new datasets.")
@click.option("--dry-run", is_flag=True, help="Check every row; write nothing.")
@click.option("--user", default=None, help="Act as this user (default: the local operator).")
@click.pass_obj
def import_metadata(
    obj: dict[str, Any], path: Path, organization: str | None, dry_run: bool, user: str | None
) -> None:
    """Create or update datasets from a GD Catalog metadata spreadsheet (XLSX or CSV)."""
    from catalog.services.metadata_sheet import import_metadata as run_import

    with _context(obj, user=user) as ctx:
        result = run_import(ctx, path, organization=organization, dry_run=dry_run)
    click.echo(
        f"created {result['created']}, updated {result['updated']}, "
        f"unchanged {result['unchanged']}, failed {len(result['failed'])}"
    )
    for failure in result["failed"]:
        for field, messages in failure["errors"].items():
            click.echo(f"  row {failure['row']} ({failure.get('name')}): {field}: {messages}")
    if result["failed"]:
        sys.exit(2)


@main.command("export-metadata")
@click.option("--xlsx", "xlsx_path", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--org", "organization", default=None)
@click.pass_obj
def export_metadata(
    obj: dict[str, Any], xlsx_path: Path | None, csv_path: Path | None, organization: str | None
) -> None:
    """Write the catalogue's metadata as a GD Catalog spreadsheet (XLSX and/or CSV)."""
    from catalog.services.metadata_sheet import export_metadata as run_export

    if not xlsx_path and not csv_path:
        raise click.UsageError("give --xlsx FILE, --csv FILE or both")
    with _context(obj) as ctx:
        count = run_export(ctx, xlsx_path, csv_path, organization=organization)
    click.echo(f"Exported {count} datasets")


class _SearchGroup(click.Group):
    """`khlang search check` is a subcommand; anything else is a query."""

    def resolve_command(self, ctx: click.Context, args: list[str]) -> Any:
        if args and args[0] not in self.commands:
            args = ["query", *args]
        return super().resolve_command(ctx, args)


@main.group(cls=_SearchGroup)
def search() -> None:
    """Search datasets: `khlang search "QUERY" [--filter k=v]`, or `khlang search check`."""


@search.command("query", hidden=True)
@click.argument("text", default="")
@click.option("--filter", "filters", multiple=True, help="NAME=VALUE, e.g. fiscal_year=2567.")
@click.option("--facet", "facets", multiple=True, help="Count values of NAME.")
@click.option("--sort", default="relevance", show_default=True)
@click.option("--rows", default=20, show_default=True, type=int)
@click.option("--user", default=None, help="Search as this user (sees their private datasets).")
@click.option("--json", "as_json", is_flag=True, help="Print results and facets as JSON.")
@click.pass_obj
def search_query(
    obj: dict[str, Any],
    text: str,
    filters: tuple[str, ...],
    facets: tuple[str, ...],
    sort: str,
    rows: int,
    user: str | None,
    as_json: bool,
) -> None:
    from catalog.services.search import package_search

    parsed: dict[str, list[str]] = {}
    for item in filters:
        name, sep, value = item.partition("=")
        if not sep:
            raise click.BadParameter(f"{item!r} is not NAME=VALUE", param_hint="--filter")
        parsed.setdefault(name.strip(), []).append(value.strip())
    with _context(obj, user=user) as ctx:
        if user is None:
            ctx = replace(ctx, system=False)  # a plain query sees what a visitor sees
        if as_json and not facets:
            facets = _DEFAULT_FACETS
        result = package_search(
            ctx, text, filters=parsed, facet_fields=facets, sort=sort, rows=rows
        )
    if as_json:
        result["results"] = [
            {
                "name": r["name"],
                "title": r["title"],
                "title_en": r["title_en"],
                "organization": r["organization"]["name"],
            }
            for r in result["results"]
        ]
        _print_json(result)
        return
    click.echo(f"{result['count']} datasets")
    for r in result["results"]:
        click.echo(f"{r['name']}\t{r['organization']['name']}\t{r['title']}")
    if result["suggestion"]:
        click.echo(f"did you mean: {result['suggestion']}")
    for name, counts in result["facets"].items():
        click.echo(f"{name}: " + ", ".join(f"{k} ({v})" for k, v in counts.items()))


_DEFAULT_FACETS = ("organization", "tags", "res_format", "groups", "license_id", "fiscal_year")


@search.command("check")
@click.option("--repair", is_flag=True, help="Re-index what is missing or stale; drop orphans.")
@click.pass_obj
def search_check(obj: dict[str, Any], repair: bool) -> None:
    """Compare the search index with the database (and repair the drift)."""
    from catalog.services.search import search_check as check

    with _context(obj) as ctx:
        report = check(ctx, repair=repair)
    click.echo(
        f"{report['datasets']} datasets, {report['indexed']} indexed: "
        f"{len(report['missing'])} missing, {len(report['stale'])} stale, "
        f"{len(report['orphans'])} orphans" + (" — repaired" if repair else "")
    )
    if not repair and (report["missing"] or report["stale"] or report["orphans"]):
        sys.exit(1)


@main.command()
@click.pass_obj
def reindex(obj: dict[str, Any]) -> None:
    """Rebuild the search index beside the live one and swap it in (search never goes empty)."""
    from catalog.services.search import reindex as rebuild

    with _context(obj) as ctx:
        count = rebuild(ctx)
    click.echo(f"Indexed {count} datasets")


if __name__ == "__main__":
    main()
