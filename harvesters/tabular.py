"""The ``tabular`` source kind: an agency's own CSV, TSV, XLSX or JSON files.

A source names one file (``path`` or ``url``) or several (``folder``, ``glob``, ``s3``). It
becomes one dataset with one resource per file, or (``per_file: true``) one dataset per file.
The dataset's fields come from the config's ``defaults`` and the source's ``dataset`` template,
in which ``{stem}`` is the file name without extension and ``{year}`` the first year (BE or CE)
in it. Each resource is tabular: the harvest service fetches it, prepares it with
:func:`harvesters.prepare.prepare_table` using its ``read_options``, and validates it
against its ``table_schema``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any

from harvesters.base import (
    FileRef,
    HarvestError,
    HarvestRecord,
    RemoteItem,
    ResourceRecord,
    SourceKind,
    register,
)
from harvesters.config import fill_placeholders
from harvesters.fetch import list_location, stat_local, url_name
from harvesters.readers import EXTENSIONS
from schemas.tables import load_table_schema

# What a folder listing picks up without a pattern (not .txt: READMEs are .txt).
LISTED = frozenset({"csv", "tsv", "xlsx", "xlsm", "json"})

READ_OPTION_KEYS = (
    "format",
    "encoding",
    "sheet",
    "header_row",
    "header_rows",
    "columns",
    "pii",
    "json_path",
    "extra_columns",
)
_YEAR = re.compile(r"(?<!\d)(25\d\d|2[0-1]\d\d|19\d\d)(?!\d)")


def year_in(text: str) -> str | None:
    """The first BE (25xx) or CE (19xx-21xx) year in a file name, as written."""
    found = _YEAR.search(text)
    return found.group(1) if found else None


@register("tabular")
class TabularSource(SourceKind):
    """Files listed from a path, folder, glob, URL or S3 location (see module docs)."""

    def __init__(self, config: Mapping[str, Any], opener: Any) -> None:
        super().__init__(config, opener)
        self._schema: Mapping[str, Any] | None = None

    # -- gather ------------------------------------------------------------------------------

    def _files(self) -> list[FileRef]:
        c = self.config
        lister = getattr(self.open, "list", None) or list_location
        if "path" in c:
            return [stat_local(c["path"])]
        if "url" in c:
            return [FileRef(c["url"], url_name(c["url"]))]
        location = c.get("folder") or c.get("glob") or c.get("s3")
        if not location:
            raise HarvestError(
                f"source {c.get('id')!r} names no path, folder, glob, url or s3",
                f"แหล่งข้อมูล {c.get('id')!r} ไม่ได้ระบุ path, folder, glob, url หรือ s3",
            )
        files = lister(location, c.get("pattern"))
        if not c.get("pattern"):
            # A folder often holds a README or a PDF next to the tables.
            fmt = c.get("format")
            files = [
                f
                for f in files
                if (
                    EXTENSIONS.get(_extension(f.name)) == fmt
                    if fmt
                    else _extension(f.name) in LISTED
                )
            ]
        if not files:
            # Refuse rather than report an empty source: with delete_missing, a mistyped
            # folder would otherwise withdraw every dataset it ever published.
            raise HarvestError(
                f"no table files found at {location}",
                f"ไม่พบไฟล์ตารางที่ {location}",
            )
        return files

    def gather(self, since: datetime | None = None) -> Iterator[RemoteItem]:
        """One item per file (``per_file``) or one item with every file; with ``since``,
        only files modified after it (a one-dataset source is gathered whole when any of its
        files changed, so no resource goes missing; a URL has no known time and is always
        gathered)."""
        files = self._files()
        source_id = self.config["id"]

        def newer(f: FileRef) -> bool:
            return since is None or f.modified is None or _aware(f.modified) > _aware(since)

        if self.config.get("per_file"):
            for f in files:
                if newer(f):
                    yield RemoteItem(f"{source_id}/{f.name}", [f], f.modified)
            return
        if any(newer(f) for f in files):
            times = [f.modified for f in files if f.modified is not None]
            yield RemoteItem(source_id, files, max(times, default=None))

    # -- map ---------------------------------------------------------------------------------

    def table_schema(self) -> Mapping[str, Any]:
        """The source's Table Schema (built-in name or a path resolved by the config)."""
        if self._schema is None:
            try:
                self._schema = load_table_schema(self.config["table_schema"])
            except (KeyError, ValueError) as exc:
                raise HarvestError(
                    f"source {self.config.get('id')!r}: no usable table_schema ({exc})",
                    f"แหล่งข้อมูล {self.config.get('id')!r}: ใช้ table_schema ไม่ได้ ({exc})",
                ) from None
        return self._schema

    def _dataset(self, files: list[FileRef]) -> dict[str, Any]:
        template = {**(self.config.get("defaults") or {}), **(self.config.get("dataset") or {})}
        if self.config.get("owner_org"):
            template.setdefault("owner_org", self.config["owner_org"])
        stem = PurePosixPath(files[0].name).stem if len(files) == 1 else self.config["id"]
        year = year_in(stem) if len(files) == 1 else None
        if year is None and "{year}" in repr(template):
            raise HarvestError(
                f"{files[0].name}: the dataset template uses {{year}}, but the file name has "
                "no year",
                f"{files[0].name}: แม่แบบชุดข้อมูลใช้ {{year}} แต่ชื่อไฟล์ไม่มีปี",
            )
        return fill_placeholders(template, stem, year or "", slug_keys=("name",))

    def _resource(self, f: FileRef, several: bool) -> ResourceRecord:
        options = {k: self.config[k] for k in READ_OPTION_KEYS if self.config.get(k) is not None}
        fmt = options.get("format") or _extension(f.name)
        file_name = PurePosixPath(f.name).name
        stem = PurePosixPath(f.name).stem
        labels = fill_placeholders(
            dict(self.config.get("resource") or {}), stem, year_in(stem) or ""
        )
        name = labels.get("name") or file_name
        if several and "{stem}" not in str(
            (self.config.get("resource") or {}).get("name", "{stem}")
        ):
            name = f"{name} ({file_name})"  # resources are matched by name: keep them apart
        return ResourceRecord(
            name=name,
            name_en=labels.get("name_en", ""),
            description=labels.get("description", ""),
            format=fmt.upper(),
            file=f,
            tabular=True,
            table_schema=self.table_schema(),
            read_options={**options, "format": fmt},
        )

    def map(self, item: RemoteItem) -> HarvestRecord:
        """The dataset (template filled for the file) and one tabular resource per file."""
        files: list[FileRef] = list(item.payload or [])
        if not files:
            raise HarvestError(f"{item.remote_id}: no files", f"{item.remote_id}: ไม่มีไฟล์")
        return HarvestRecord(
            remote_id=item.remote_id,
            dataset=self._dataset(files),
            resources=[self._resource(f, len(files) > 1) for f in files],
            modified=item.modified,
        )


def _extension(name: str) -> str:
    return PurePosixPath(name).suffix.lstrip(".").lower()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
