"""Actions about the site itself: status_show, site_read, help_show."""

from __future__ import annotations

from functools import cache
from typing import TypedDict

from catalog.services.context import Context
from catalog.services.registry import action, get_action
from schemas.actions import HelpShowParams, NoParams

#: The CKAN API version whose contract Khlang serves (what `ckan_version` reports to clients).
CKAN_COMPATIBLE = "2.11.0"


class StatusDict(TypedDict):
    site_title: str
    site_description: str
    site_url: str
    error_emails_to: str | None
    locale_default: str
    extensions: list[str]
    ckan_version: str
    khlang_version: str


@cache
def khlang_version() -> str:
    """The installed package's version (read once: the lookup parses package metadata)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("khlang")
    except PackageNotFoundError:  # run from a checkout without installing
        return "0"


@action("status_show", NoParams)
def status_show(ctx: Context) -> StatusDict:
    """The site's title, address, default language and the CKAN API version it serves."""
    settings = ctx.catalog.settings
    khlang = khlang_version()
    title = settings.SITE_TITLE_EN if ctx.lang == "en" else settings.SITE_TITLE_TH
    return {
        "site_title": title,
        "site_description": "",
        "site_url": ctx.site_url,
        "error_emails_to": None,
        "locale_default": settings.DEFAULT_LANGUAGE,
        "extensions": ["khlang", "datastore", "dcat", "thai_gdc"],
        "ckan_version": CKAN_COMPATIBLE,
        "khlang_version": khlang,
    }


@action("site_read", NoParams)
def site_read(ctx: Context) -> bool:
    """Whether the caller may read the site: always true for a public catalogue."""
    return True


@action("help_show", HelpShowParams)
def help_show(ctx: Context, name: str) -> str:
    """The help text of an action: what it does, its parameters and what it returns.

    :param name: the action's name, e.g. ``package_search``.
    :raises NotFound: no action has that name.
    """
    from catalog.services.errors import NotFound
    from catalog.services.registry import UnknownAction

    try:
        return get_action(name).doc
    except UnknownAction:
        raise NotFound(f"Not found: action {name}") from None


def catalogue_changes(ctx: Context) -> int:
    """The count of committed catalogue changes (of every process): while it stays the same,
    every answer read from the catalogue stays true."""
    return ctx.catalog.changes()
