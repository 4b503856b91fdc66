"""The agency's harvest configuration (YAML): load, validate, and say where a mistake is.

A mistake is reported with its key path (``sources[1].encoding``) and the YAML line it is on,
in English and Thai, so a publisher can fix the file without reading a traceback. All problems
of a file are reported at once.

Relative paths (``path``, ``folder``, ``glob`` and a ``table_schema`` file) are resolved against
the folder of the config file, so a config works whatever the current directory is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from marshmallow import RAISE, Schema, ValidationError, fields, pre_load, validate

from schemas import messages as msg
from schemas.dataset import DatasetSchema
from schemas.fields import SLUG_RE
from schemas.tables import BUILTIN_SCHEMAS, load_table_schema

TABULAR_LOCATIONS = ("path", "folder", "glob", "url", "s3")
TABULAR_FORMATS = ("csv", "tsv", "xlsx", "json")
ENCODINGS = ("auto", "utf-8", "cp874", "tis-620")
COMMON_KEYS = frozenset({"id", "kind", "delete_missing", "dataset", "frequency", "incremental"})
TABULAR_KEYS = frozenset(
    {
        *TABULAR_LOCATIONS,
        "pattern",
        "format",
        "resource",
        "encoding",
        "sheet",
        "header_row",
        "header_rows",
        "columns",
        "table_schema",
        "per_file",
        "pii",
        "json_path",
        "extra_columns",
    }
)
# Keys of the remote kinds are kept as they are: their kind modules validate them.
REMOTE_KEYS = frozenset({"url", "organization", "fq", "rows", "format", "fetch_files", "groups"})
KIND_KEYS: Mapping[str, frozenset[str]] = {
    "tabular": TABULAR_KEYS,
    "ckan": REMOTE_KEYS,
    "dcat": REMOTE_KEYS,
    "datajson": REMOTE_KEYS,
}
PLACEHOLDERS = ("{stem}", "{year}")


@dataclass(frozen=True)
class ConfigProblem:
    """One mistake: key path (``sources[0].path``), 1-based YAML line, English, Thai."""

    path: str
    line: int | None
    message_en: str
    message_th: str

    def __str__(self) -> str:
        where = f"line {self.line}, " if self.line else ""
        return f"{where}{self.path or '(top)'}: {self.message_en}"


class ConfigError(ValueError):
    """The harvest config is not valid; ``errors`` lists every problem found, by line."""

    def __init__(self, errors: list[ConfigProblem]) -> None:
        errors = sorted(errors, key=lambda e: (e.line or 0, e.path))
        super().__init__("invalid harvest config:\n" + "\n".join(f"  {e}" for e in errors))
        self.errors = errors


@dataclass(frozen=True)
class SourceConfig:
    """One validated source. ``settings`` holds the source's own keys (paths resolved)."""

    id: str
    kind: str
    settings: dict[str, Any]
    delete_missing: bool
    organization: str
    defaults: dict[str, Any] = field(default_factory=dict)
    base_dir: Path = Path(".")
    line: int | None = None

    def as_mapping(self) -> dict[str, Any]:
        """What a SourceKind receives as ``config``: the source's keys plus ``owner_org``,
        ``defaults`` (dataset metadata defaults) and ``base_dir``."""
        return {
            **self.settings,
            "owner_org": self.organization,
            "defaults": dict(self.defaults),
            "base_dir": str(self.base_dir),
        }


@dataclass(frozen=True)
class HarvestConfig:
    """A validated harvest config."""

    organization: str
    defaults: dict[str, Any]
    delete_missing: bool
    sources: list[SourceConfig]
    base_dir: Path


# -- marshmallow schemas ---------------------------------------------------------------------


def _bilingual(en: str, th: str) -> msg.Bilingual:
    return msg.Bilingual(en, th)


class HeaderRow(fields.Field):
    """``auto``, ``none`` (no header: columns in schema order) or a 1-based row number."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if value in ("auto", "none"):
            return value
        if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
            return value
        raise ValidationError(
            _bilingual(
                "Use auto, none or a row number from 1.",
                "ใช้ auto, none หรือเลขแถวตั้งแต่ 1 ขึ้นไป",
            )
        )


class _PiiSchema(Schema):
    class Meta:
        unknown = RAISE

    allow = fields.List(fields.String(), load_default=list)
    mask = fields.List(fields.String(), load_default=list)


class _ResourceLabels(Schema):
    class Meta:
        unknown = RAISE

    name = fields.String(validate=validate.Length(min=1, max=500))
    name_en = fields.String(validate=validate.Length(max=500))
    description = fields.String(validate=validate.Length(max=20000))


class _SourceSchema(Schema):
    class Meta:
        unknown = RAISE

    id = fields.String(required=True, validate=validate.Regexp(SLUG_RE, error=msg.SLUG))
    kind = fields.String(required=True, validate=validate.OneOf(tuple(KIND_KEYS)))
    delete_missing = fields.Boolean(allow_none=True, load_default=None)
    dataset = fields.Dict(keys=fields.String(), load_default=dict)
    # tabular: names of the resources ({stem} and {year} filled per file)
    resource = fields.Nested(_ResourceLabels)
    # scheduled runs (`khlang harvest run-due`) and incremental gathering
    frequency = fields.String(validate=validate.OneOf(("manual", "hourly", "daily", "weekly")))
    incremental = fields.Boolean()
    # tabular
    path = fields.String()
    folder = fields.String()
    glob = fields.String()
    s3 = fields.String(validate=validate.Regexp(r"^s3://[^/]+", error="Must start with s3://."))
    pattern = fields.String()
    encoding = fields.String(validate=validate.OneOf(ENCODINGS))
    sheet = fields.Raw()
    header_row = HeaderRow()
    header_rows = fields.Integer(validate=validate.OneOf((1, 2)))
    columns = fields.Dict(keys=fields.String(), values=fields.String(allow_none=True))
    table_schema = fields.String()
    per_file = fields.Boolean()
    pii = fields.Nested(_PiiSchema)
    json_path = fields.String()
    extra_columns = fields.String(validate=validate.OneOf(("keep", "drop")))
    # shared by tabular and the remote kinds, checked per kind below
    url = fields.Raw()
    format = fields.Raw()
    # remote kinds
    organization = fields.Raw()
    fq = fields.Raw()
    rows = fields.Raw()
    fetch_files = fields.Raw()
    groups = fields.Raw()

    @pre_load
    def _string_labels(self, data: Any, **kwargs: Any) -> Any:
        # A YAML key such as 2567 (a year used as a column label) is an int.
        if isinstance(data, dict) and isinstance(data.get("columns"), dict):
            data = {**data, "columns": {str(k): v for k, v in data["columns"].items()}}
        return data


class _ConfigSchema(Schema):
    class Meta:
        unknown = RAISE

    organization = fields.String(required=True, validate=validate.Regexp(SLUG_RE, error=msg.SLUG))
    defaults = fields.Dict(keys=fields.String(), load_default=dict)
    delete_missing = fields.Boolean(load_default=False)
    sources = fields.List(
        fields.Nested(_SourceSchema), required=True, validate=validate.Length(min=1)
    )


# -- YAML lines ------------------------------------------------------------------------------

Key = tuple[str | int, ...]


def _lines(node: yaml.Node | None, problems: list[tuple[Key, str, str]]) -> dict[Key, int]:
    """Key path -> 1-based line of the key (mapping entries) or the item (sequence items).
    Duplicate mapping keys, which YAML loaders silently collapse, are added to ``problems``."""
    lines: dict[Key, int] = {}
    if node is None:
        return lines
    lines[()] = node.start_mark.line + 1

    def walk(n: yaml.Node, path: Key) -> None:
        if isinstance(n, yaml.MappingNode):
            seen: set[str] = set()
            for key_node, value_node in n.value:
                key = str(key_node.value)
                if key in seen:
                    problems.append(
                        (
                            (*path, key),
                            f"Duplicate key {key!r}.",
                            f"คีย์ {key!r} ซ้ำ",
                        )
                    )
                seen.add(key)
                lines[(*path, key)] = key_node.start_mark.line + 1
                walk(value_node, (*path, key))
        elif isinstance(n, yaml.SequenceNode):
            for i, item in enumerate(n.value):
                lines[(*path, i)] = item.start_mark.line + 1
                walk(item, (*path, i))

    walk(node, ())
    return lines


def _line_of(lines: Mapping[Key, int], path: Key) -> int | None:
    # A missing key has no line of its own: point at the closest enclosing entry.
    for end in range(len(path), -1, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return None


def _path_text(path: Key) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _flatten(errors: Any, path: Key = ()) -> list[tuple[Key, str]]:
    if isinstance(errors, Mapping):
        out: list[tuple[Key, str]] = []
        for key, value in errors.items():
            if key == "_schema":
                out += _flatten(value, path)
            else:
                out += _flatten(value, (*path, key))
        return out
    if isinstance(errors, list | tuple):
        return [item for value in errors for item in _flatten(value, path)]
    return [(path, errors)]


# -- checks beyond the shape -----------------------------------------------------------------


def _uses_placeholder(value: Any) -> bool:
    if isinstance(value, str):
        return any(p in value for p in PLACEHOLDERS)
    if isinstance(value, Mapping):
        return any(_uses_placeholder(v) for v in value.values())
    if isinstance(value, list):
        return any(_uses_placeholder(v) for v in value)
    return False


def fill_placeholders(value: Any, stem: str, year: str, *, slug_keys: tuple[str, ...] = ()) -> Any:
    """``value`` (a dataset template) with ``{stem}`` and ``{year}`` replaced in every string.

    In the keys named in ``slug_keys`` (e.g. ``name``) the stem is made a slug first.
    Other braces are left alone, so descriptions may contain them.
    """
    if isinstance(value, str):
        return value.replace("{stem}", stem).replace("{year}", year)
    if isinstance(value, Mapping):
        return {
            k: fill_placeholders(v, slugify(stem) if k in slug_keys else stem, year)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [fill_placeholders(v, stem, year) for v in value]
    return value


def slugify(text: str) -> str:
    """Lower-case ASCII slug: runs of other characters become one ``-``."""
    return re.sub(r"[^a-z0-9_]+", "-", text.lower()).strip("-")


def _dataset_problems(data: Mapping[str, Any], path: Key) -> list[tuple[Key, str]]:
    sample = fill_placeholders(dict(data), "sample", "2567", slug_keys=("name",))
    try:
        DatasetSchema().load(sample, partial=True)
    except ValidationError as exc:
        return [((*path, *p), m) for p, m in _flatten(exc.messages)]
    return []


def _tabular_problems(
    source: dict[str, Any], index: int, base_dir: Path
) -> list[tuple[Key, str | msg.Bilingual]]:
    here: Key = ("sources", index)
    out: list[tuple[Key, str | msg.Bilingual]] = []
    given = [k for k in TABULAR_LOCATIONS if k in source]
    if len(given) != 1:
        en = "Give exactly one of path, folder, glob, url or s3"
        th = "ต้องระบุอย่างใดอย่างหนึ่งเท่านั้น: path, folder, glob, url หรือ s3"
        out.append((here, _bilingual(f"{en} (found: {', '.join(given) or 'none'}).", th)))
    url = source.get("url")
    if url is not None and not (isinstance(url, str) and re.match(r"https?://", url)):
        en, th = "Must be an http:// or https:// URL.", "ต้องเป็น URL ที่ขึ้นต้นด้วย http:// หรือ https://"
        out.append(((*here, "url"), _bilingual(en, th)))
    fmt = source.get("format")
    if fmt is not None and fmt not in TABULAR_FORMATS:
        out.append(((*here, "format"), f"Must be one of: {', '.join(TABULAR_FORMATS)}."))
    multi = any(k in source for k in ("folder", "glob", "s3"))
    if multi and not source.get("per_file") and _uses_placeholder(source.get("dataset")):
        en = "{stem} and {year} need per_file: true when a source has several files."
        th = "ใช้ {stem} และ {year} ได้เมื่อกำหนด per_file: true สำหรับแหล่งที่มีหลายไฟล์"
        out.append(((*here, "dataset"), _bilingual(en, th)))
    pii = source.get("pii") or {}
    both = sorted(set(pii.get("allow", ())) & set(pii.get("mask", ())))
    if both:
        en = f"Columns both allowed and masked: {', '.join(both)}."
        th = f"คอลัมน์ที่ระบุทั้ง allow และ mask: {', '.join(both)}"
        out.append(((*here, "pii"), _bilingual(en, th)))
    schema = source.get("table_schema")
    if schema is None:
        out.append(((*here, "table_schema"), "Missing data for required field."))
    else:
        if schema not in BUILTIN_SCHEMAS:
            schema = str((base_dir / schema).resolve())
            source["table_schema"] = schema
        try:
            load_table_schema(schema)
        except ValueError as exc:
            en = f"{exc}"
            th = f"โหลด Table Schema ไม่ได้: {exc}"
            out.append(((*here, "table_schema"), _bilingual(en, th)))
    for key in ("path", "folder", "glob"):
        if key in source:
            source[key] = str(base_dir / source[key])
    return out


def _source_problems(
    source: dict[str, Any], index: int, base_dir: Path
) -> list[tuple[Key, str | msg.Bilingual]]:
    kind = source["kind"]
    allowed = COMMON_KEYS | KIND_KEYS[kind]
    out: list[tuple[Key, str | msg.Bilingual]] = []
    for key in sorted(set(source) - allowed):
        en = f"Not used by sources of kind {kind}."
        th = f"ไม่ใช้กับแหล่งข้อมูลประเภท {kind}"
        out.append((("sources", index, key), _bilingual(en, th)))
    if kind == "tabular":
        out += _tabular_problems(source, index, base_dir)
    out += _dataset_problems(source.get("dataset") or {}, ("sources", index, "dataset"))
    return out


# -- entry point -----------------------------------------------------------------------------


def _is_file(text: str) -> bool:
    if "\n" in text or len(text) > 1024:
        return False
    try:
        return Path(text).is_file()
    except OSError:
        return False


def _read(path_or_text: str | Path, base_dir: Path | None) -> tuple[str, Path]:
    looks_like_path = isinstance(path_or_text, Path) or (
        "\n" not in path_or_text and path_or_text.strip().endswith((".yaml", ".yml"))
    )
    if looks_like_path or _is_file(path_or_text):
        path = Path(path_or_text)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise ConfigError(
                [
                    ConfigProblem(
                        "", None, f"cannot read {path}: {reason}", f"อ่านไฟล์ {path} ไม่ได้: {reason}"
                    )
                ]
            ) from None
        return text, (base_dir or path.resolve().parent)
    return path_or_text, (base_dir or Path.cwd()).resolve()


def _problem(lines: Mapping[Key, int], path: Key, message: str) -> ConfigProblem:
    return ConfigProblem(
        _path_text(path), _line_of(lines, path), str(message), msg.translate(message, "th")
    )


def load_config(path_or_text: str | Path, *, base_dir: Path | None = None) -> HarvestConfig:
    """Load and validate a harvest config.

    :param path_or_text: a file path (a ``Path``, or a one-line string naming an existing file)
        or the YAML text itself.
    :param base_dir: folder relative paths resolve against (default: the config file's folder,
        or the current directory for text).
    :raises ConfigError: listing every problem with its key path, line and en/th message.
    """
    text, root = _read(path_or_text, base_dir)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        reason = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(
            [ConfigProblem("", line, f"Not valid YAML: {reason}", f"ไฟล์ YAML ไม่ถูกต้อง: {reason}")]
        ) from None
    duplicates: list[tuple[Key, str, str]] = []
    lines = _lines(node, duplicates)
    problems = [
        ConfigProblem(_path_text(p), _line_of(lines, p), en, th) for p, en, th in duplicates
    ]
    if not isinstance(data, dict):
        en = "The config must be a mapping with organization and sources."
        th = "ไฟล์ตั้งค่าต้องเป็นแบบ key: value ที่มี organization และ sources"
        raise ConfigError([*problems, ConfigProblem("", 1, en, th)])
    try:
        loaded = _ConfigSchema().load(data)
    except ValidationError as exc:
        problems += [_problem(lines, p, m) for p, m in _flatten(exc.messages)]
        raise ConfigError(problems) from None
    found: list[tuple[Key, Any]] = []
    found += _dataset_problems(loaded["defaults"], ("defaults",))
    seen: dict[str, int] = {}
    for index, source in enumerate(loaded["sources"]):
        if source["id"] in seen:
            en = f"Source id {source['id']!r} is already used by sources[{seen[source['id']]}]."
            th = f"รหัสแหล่งข้อมูล {source['id']!r} ซ้ำกับ sources[{seen[source['id']]}]"
            found.append((("sources", index, "id"), _bilingual(en, th)))
        seen.setdefault(source["id"], index)
        found += _source_problems(source, index, root)
    problems += [_problem(lines, p, m) for p, m in found]
    if problems:
        raise ConfigError(problems)
    return HarvestConfig(
        organization=loaded["organization"],
        defaults=loaded["defaults"],
        delete_missing=loaded["delete_missing"],
        sources=[
            SourceConfig(
                id=s["id"],
                kind=s["kind"],
                settings=s,
                delete_missing=(
                    loaded["delete_missing"] if s["delete_missing"] is None else s["delete_missing"]
                ),
                organization=loaded["organization"],
                defaults=loaded["defaults"],
                base_dir=root,
                line=lines.get(("sources", i)),
            )
            for i, s in enumerate(loaded["sources"])
        ],
        base_dir=root,
    )
