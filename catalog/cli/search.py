"""`khlang search "QUERY"`, `khlang search check` and `khlang reindex`."""

from __future__ import annotations

import sys
from dataclasses import replace
from typing import Any

import click

from catalog.cli.common import print_json, service_context


class _SearchGroup(click.Group):
    """`khlang search check` is a subcommand; anything else is a query."""

    def resolve_command(self, ctx: click.Context, args: list[str]) -> Any:
        if args and args[0] not in self.commands:
            args = ["query", *args]
        return super().resolve_command(ctx, args)


@click.group(cls=_SearchGroup)
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
    with service_context(obj, user=user) as ctx:
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
        print_json(result)
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
@click.option(
    "--repair", is_flag=True, help="Re-index what is missing or stale; drop orphans; recount."
)
@click.pass_obj
def search_check(obj: dict[str, Any], repair: bool) -> None:
    """Compare the search index with the database (and repair the drift)."""
    from catalog.services.search import search_check as check

    with service_context(obj) as ctx:
        report = check(ctx, repair=repair)
    click.echo(
        f"{report['datasets']} datasets, {report['indexed']} indexed: "
        f"{len(report['missing'])} missing, {len(report['stale'])} stale, "
        f"{len(report['orphans'])} orphans, {len(report['counts'])} kept counts off"
        + (" — repaired" if repair else "")
    )
    for name in report["counts"]:
        click.echo(f"  counts off: {name}")
    drift = report["missing"] or report["stale"] or report["orphans"] or report["counts"]
    if not repair and drift:
        sys.exit(1)


@click.command()
@click.pass_obj
def reindex(obj: dict[str, Any]) -> None:
    """Rebuild the search index beside the live one and swap it in (search never goes empty)."""
    from catalog.services.search import reindex as rebuild

    with service_context(obj) as ctx:
        count = rebuild(ctx)
    click.echo(f"Indexed {count} datasets")


COMMANDS = (search, reindex)
