"""`khlang harvest ...` and the GD Catalog spreadsheet bridge (`import-metadata`, `export-metadata`)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from catalog.cli.common import print_json, service_context


@click.group()
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
        elif event == "datastore":
            rate = info["rows"] / max(info["seconds"], 1e-9)
            click.echo(
                f"  datastore     {info['name']}  {info['status']}, {info['rows']:,} rows"
                f" in {info['seconds']:.1f} s ({rate:,.0f} rows/s)",
                err=True,
            )


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
@click.option(
    "--defer-datastore",
    is_flag=True,
    help="Publish only; leave the datastore loads to `khlang datastore load`.",
)
@click.pass_obj
def harvest_run(
    obj: dict[str, Any],
    config_path: Path,
    dry_run: bool,
    only: tuple[str, ...],
    user: str | None,
    as_json: bool,
    defer_datastore: bool,
) -> None:
    """Harvest the sources of CONFIG_PATH into the catalogue."""
    from catalog.services.harvest import harvest_run as run

    config = _load_config(config_path)
    with service_context(obj, user=user) as ctx:
        summaries = run(
            ctx,
            config,
            dry_run=dry_run,
            only=list(only),
            progress=_ProgressPrinter(),
            load_datastore=not defer_datastore,
        )
    if as_json:
        print_json(summaries)
    else:
        _summary_table(summaries)
    if any(s["status"] != "done" or s["counts"].get("failed") for s in summaries):
        sys.exit(2)


@harvest.command("run-due")
@click.pass_obj
def harvest_run_due(obj: dict[str, Any]) -> None:
    """Run the stored sources that are due by their frequency (for cron)."""
    from catalog.services.harvest import harvest_run_due as run_due

    with service_context(obj) as ctx:
        summaries = run_due(ctx, progress=_ProgressPrinter())
    _summary_table(summaries)


@harvest.command("jobs")
@click.option("--limit", default=20, show_default=True, type=int)
@click.pass_obj
def harvest_jobs(obj: dict[str, Any], limit: int) -> None:
    """List the latest harvest jobs."""
    from catalog.services.harvest import harvest_jobs as jobs

    with service_context(obj) as ctx:
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

    with service_context(obj) as ctx:
        result = report(ctx, job_id)
    if as_json:
        print_json(result)
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


@click.command("import-metadata")
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

    with service_context(obj, user=user) as ctx:
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


@click.command("export-metadata")
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
    with service_context(obj) as ctx:
        count = run_export(ctx, xlsx_path, csv_path, organization=organization)
    click.echo(f"Exported {count} datasets")


@click.group()
def datastore() -> None:
    """The datastore: typed tables of harvested tabular resources."""


@datastore.command("load")
@click.pass_obj
def datastore_load(obj: dict[str, Any]) -> None:
    """Load the datastore tables still waiting after a harvest (for cron or a worker)."""
    from catalog.services.datastore import load_pending

    with service_context(obj) as ctx:
        loaded = load_pending(ctx.catalog, _ProgressPrinter())
    click.echo(f"Loaded {sum(r['status'] == 'active' for r in loaded)} of {len(loaded)} tables")
    if any(r["status"] != "active" for r in loaded):
        sys.exit(2)


COMMANDS = (harvest, datastore, import_metadata, export_metadata)
