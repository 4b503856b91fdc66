"""The Excel bridge: GD Catalog metadata spreadsheets in (`import_metadata`) and out
(`export_metadata`).

Thai agencies keep their data catalogue in the GD Catalog spreadsheet template. The sheet format:

- One row per dataset under a header row. The header may follow title/preamble rows. A header
  cell is a Thai label of reference B.1 ("ชื่อชุดข้อมูล"), its English label ("Dataset Name"),
  the field name ("title"), or all three as "Thai label (field_name)", which is what the export
  writes. Matching ignores case, spaces, underscores, "*" and ":". Unknown columns are ignored
  and listed in the import result.
- Every worksheet whose header has a `name` or `title` column is read. A sheet without a
  data_type column takes its data type from its name, as the GDC template does (Temp2_Meta_Stat...).
- Multi-value cells (objective, data_format, data_language, disaggregate, tags) are split on
  commas and line breaks; the export joins them with ", ".
- Dates may be BE or CE, ISO or Thai (the schemas parse them). The export writes ISO CE dates;
  years (fiscal_year, first/last_year_of_data) stay BE, as the GDC stores them.
- Like the GDC importer, a value outside a controlled list becomes อื่นๆ with the text in the
  `*_other` companion, but only when the sheet has no column for that companion.
- Spreadsheet formula injection is neutralised: a text cell starting with =, +, -, @, tab or CR
  (or with an apostrophe followed by one of those or another apostrophe) is written with a
  leading apostrophe, in the XLSX and the CSV; the import strips it again. Numbers are written
  as numbers, so a negative longitude is not escaped.
- CSV is UTF-8 with a BOM, so that Excel opens Thai text correctly.
"""

from __future__ import annotations

import csv
import dataclasses
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.models import Dataset, Organization
from catalog.services.context import Catalog, Context
from catalog.services.datasets import dataset_list, package_create, package_patch
from catalog.services.errors import NotAuthorized, NotFound, ValidationFailed
from harvesters.gdc_sheet import (
    NO_HEADER,
    Column,
    Sheet,
    SheetError,
    cell,
    column_field,
    columns,
    derive_name,
    duplicate,
    escape_formula,
    fill_other,
    key,
    open_sheets,
    sheet_data_type,
    unescape_formula,
)
from schemas import vocab
from schemas.messages import localise_errors

# --- import -----------------------------------------------------------------------------------


class _DryRunCatalog(Catalog):
    """The same database, but every transaction is rolled back: services run their whole
    validation and permission path and write nothing."""

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with self._sessions() as session:
            session.begin()
            try:
                yield session
                session.flush()
            finally:
                session.rollback()


def _org_index(ctx: Context) -> dict[str, str]:
    """Organisation name, id, Thai and English title (as `key`s) -> organisation name."""
    with ctx.catalog.reader() as session:
        orgs = session.scalars(select(Organization).where(Organization.state == "active")).all()
    index: dict[str, str] = {}
    for org in orgs:
        for text in (org.name, org.id, org.title, org.title_en):
            if text:
                index.setdefault(key(text), org.name)
    return index


def _version(ctx: Context, name: str) -> int | None:
    with ctx.catalog.reader() as session:
        return session.scalar(select(Dataset.version_number).where(Dataset.name == name))


def _failure(
    sheet: str, row: int, name: str | None, error_type: str, errors: dict[str, Any]
) -> dict[str, Any]:
    return {
        "sheet": sheet,
        "row": row,
        "name": name,
        "type": error_type,
        "errors": localise_errors(errors, "en"),
        "errors_th": localise_errors(errors, "th"),
    }


def import_metadata(
    ctx: Context, path: Path, *, organization: str | None = None, dry_run: bool = False
) -> dict[str, Any]:
    """Create or update datasets from a GD Catalog metadata spreadsheet (XLSX, or CSV).

    Each row is one service call (package_create, or package_patch of the dataset with the row's
    `name`), so a bad row never blocks the others. On update, the columns present in the sheet
    are set (an empty cell clears the field) and the others are left alone. A row without `name`
    gets a slug derived from its organisation and English or Thai title (see `derive_name`).

    :param path: the .xlsx (or .csv) file.
    :param organization: name, id or title of the organisation of rows without one; for rows
        that update an existing dataset it is not applied (the dataset is not moved).
    :param dry_run: validate every row, check permissions, and write nothing.
    :returns: ``{"created", "updated", "unchanged": counts, "failed": [{"sheet", "row" (row
        number in the file), "name", "type" ("validation-failed", "not-authorized",
        "not-found"), "errors": {field: [English messages]}, "errors_th": {...}}],
        "ignored_columns": [header texts that name no field]}``.
    :raises NotFound: the file or `organization` does not exist.
    :raises ValidationFailed: under ``file`` when the file is no spreadsheet or has no header.
    """
    orgs = _org_index(ctx)
    default_org = None
    if organization:
        default_org = orgs.get(key(organization))
        if default_org is None:
            raise NotFound(f"Not found: organization {organization}")
    run = ctx
    if dry_run:
        dry = _DryRunCatalog(ctx.catalog.settings, ctx.catalog.engine, ctx.catalog.storage)
        run = dataclasses.replace(ctx, catalog=dry)
    result: dict[str, Any] = {
        "created": 0,
        "updated": 0,
        "unchanged": 0,
        "failed": [],
        "ignored_columns": [],
    }
    seen: dict[str, tuple[str, int]] = {}
    found_sheet = False
    try:
        with open_sheets(Path(path)) as sheets:
            for sheet in sheets:
                found_sheet = True
                result["ignored_columns"].extend(
                    c for c in sheet.ignored if c not in result["ignored_columns"]
                )
                for number, cells in sheet.rows:
                    _import_row(run, sheet, number, cells, orgs, default_org, seen, result)
    except SheetError as exc:
        if exc.missing:
            raise NotFound(exc.message) from None
        raise ValidationFailed({"file": [exc.message]}) from None
    if not found_sheet:
        raise ValidationFailed({"file": [NO_HEADER]})
    return result


def _import_row(
    ctx: Context,
    sheet: Sheet,
    number: int,
    cells: Sequence[Any],
    orgs: Mapping[str, str],
    default_org: str | None,
    seen: dict[str, tuple[str, int]],
    result: dict[str, Any],
) -> None:
    data = {
        field: cell(field, cells[i] if i < len(cells) else None)
        for i, field in sheet.fields.items()
    }
    if all(value is None for value in data.values()):
        return  # a blank row, or one with notes in columns we do not read
    present = set(data)
    fill_other(data, present)
    if "data_type" not in present:
        sheet_type = sheet_data_type(sheet.title)
        if sheet_type:
            data["data_type"] = sheet_type
    org_cell = data.pop("owner_org", None)
    org = orgs.get(key(org_cell)) if org_cell else None
    name = data.pop("name", None)
    name = "-".join(name.lower().split()) if name else None
    if name is None and (org or default_org):
        name = derive_name(org or default_org or "", data.get("title"), data.get("title_en"))

    def fail(error_type: str, errors: dict[str, Any]) -> None:
        result["failed"].append(_failure(sheet.title, number, name, error_type, errors))

    if org_cell and org is None:
        return fail("validation-failed", {"owner_org": ["Organization does not exist."]})
    if name is not None:
        if name in seen:
            return fail("validation-failed", {"name": [duplicate(*seen[name])]})
        seen[name] = (sheet.title, number)
    try:
        before = _version(ctx, name) if name else None
        if before is None:
            new = {k: v for k, v in data.items() if v is not None}
            package_create(ctx, {**new, "name": name, "owner_org": org or default_org})
            result["created"] += 1
            return
        patch = {**data, **({"owner_org": org} if org else {})}
        after = package_patch(ctx, name, patch)
        result["unchanged" if after.get("version_number") == before else "updated"] += 1
    except ValidationFailed as exc:
        fail("validation-failed", exc.errors)
    except NotAuthorized as exc:
        fail("not-authorized", {"_": [exc.message]})
    except NotFound as exc:
        fail("not-found", {"_": [exc.message]})


# --- export -----------------------------------------------------------------------------------


def _readable(ctx: Context, organization: str | None) -> list[dict[str, Any]]:
    datasets: list[dict[str, Any]] = []
    page = 5000  # one call for most catalogues: pages of a list ordered by modified can shift
    while True:
        batch = dataset_list(ctx, organization=organization, limit=page, offset=len(datasets))
        datasets.extend(batch)
        if len(batch) < page:
            break
    # Withdrawn datasets are CKAN's "deleted" ones: re-importing them would publish them again.
    # Keyed by id, as a dataset edited while we page could come twice.
    kept = {ds["id"]: ds for ds in datasets if ds.get("state") != "withdrawn"}.values()
    return sorted(kept, key=lambda ds: ds["name"])


def _export_value(ds: Mapping[str, Any], field: str) -> Any:
    if field == "tag_string":
        value: Any = [t["name"] for t in ds.get("tags") or []]
    elif field == "owner_org":
        value = (ds.get("organization") or {}).get("name")
    elif field == "license_id":
        found = vocab.find_license(ds["license_id"]) if ds.get("license_id") else None
        value = found.title if found else ds.get("license_id")
    else:
        value = ds.get(field)
    if isinstance(value, list):
        value = ", ".join(str(v) for v in value) or None
    if isinstance(value, bool):
        value = "True" if value else "False"
    if isinstance(value, str):
        value = escape_formula(value) if value else None
    return value


def _replace_atomically(path: Path, write: Any) -> None:
    # A failed export must not leave a truncated file where a good one was.
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def export_metadata(
    ctx: Context,
    xlsx_path: Path | None,
    csv_path: Path | None,
    *,
    organization: str | None = None,
) -> int:
    """Write the metadata of every dataset the caller may read (withdrawn ones excepted) to an
    XLSX and/or a CSV file that `import_metadata` reads back.

    One row per dataset, ordered by name, under one header row of "Thai label (field_name)" in
    GD Catalog form order (see `columns`). Dates are ISO (CE), years BE, multi values joined
    with ", ", the licence as its GDC title and the organisation as its name.

    :param organization: only this organisation's datasets.
    :returns: the number of datasets written.
    :raises NotFound: unknown `organization`.
    """
    if xlsx_path is None and csv_path is None:
        raise ValueError("give xlsx_path, csv_path or both")
    cols = columns()
    header = [f"{c.th} ({c.field})" for c in cols]
    rows = [[_export_value(ds, c.field) for c in cols] for ds in _readable(ctx, organization)]
    if xlsx_path is not None:
        _replace_atomically(Path(xlsx_path), lambda p: _write_xlsx(p, header, rows))
    if csv_path is not None:
        _replace_atomically(Path(csv_path), lambda p: _write_csv(p, header, rows))
    return len(rows)


def _write_xlsx(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    import openpyxl
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("GD Catalog metadata")
    sheet.append(header)
    for row in rows:
        # XML 1.0 cannot hold control characters; openpyxl would refuse the whole file.
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in row])
    book.save(path)


def _write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    with open(path, "w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(["" if v is None else v for v in row] for row in rows)


__all__ = [
    "Column",
    "column_field",
    "columns",
    "derive_name",
    "escape_formula",
    "export_metadata",
    "import_metadata",
    "unescape_formula",
]
