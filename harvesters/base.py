"""What a harvester hands to the harvest service: plain records, never database rows.

A source kind implements two steps (the service runs the job around them and records each
item's status, so one bad record never aborts a job):

- ``gather(since)`` lists the remote items: cheap, ids and payloads only;
- ``map(item)`` turns one item into a `HarvestRecord` (dataset fields + resources).

Kinds are registered by name (``@register("ckan")``), so a new kind is a new module.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar


class HarvestError(Exception):
    """A problem with one source or item, told to the publisher as is (English + Thai)."""

    def __init__(self, message: str, message_th: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.message_th = message_th or message


@dataclass(frozen=True)
class FileRef:
    """A file to fetch: a local path, an http(s) URL or an s3://bucket/key URL."""

    location: str
    name: str
    size: int | None = None
    modified: datetime | None = None


@dataclass
class ResourceRecord:
    """One distribution of a harvested dataset: a link, or a file the service fetches.

    A tabular file (`tabular=True`) is normalised and validated against `table_schema`
    before it is published.
    """

    name: str
    format: str = ""
    url: str = ""
    file: FileRef | None = None
    description: str = ""
    name_en: str = ""
    tabular: bool = False
    table_schema: Mapping[str, Any] | None = None
    # Options for reading a tabular file: sheet, header row, column mapping, encoding, PII rules.
    read_options: Mapping[str, Any] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class HarvestRecord:
    """One dataset as a source describes it, already mapped to Khlang's package fields."""

    remote_id: str
    dataset: dict[str, Any]
    resources: list[ResourceRecord] = field(default_factory=list)
    modified: datetime | None = None


@dataclass(frozen=True)
class RemoteItem:
    """What gather() lists: the item's stable id in the source and its raw payload."""

    remote_id: str
    payload: Any = None
    modified: datetime | None = None


class SourceKind(ABC):
    """A kind of harvest source. Subclasses set `kind` and implement gather and map.

    :param config: the source's entry of the harvest config (validated).
    :param opener: opens a FileRef or URL as a binary stream (local, http(s), s3), with the
        size limit and timeouts of the catalogue; kinds use it instead of their own I/O.
    """

    kind: ClassVar[str]

    def __init__(self, config: Mapping[str, Any], opener: Callable[[str], Any]) -> None:
        self.config = config
        self.open = opener

    @abstractmethod
    def gather(self, since: datetime | None = None) -> Iterator[RemoteItem]:
        """List the source's items; `since` asks only for items modified after it."""

    @abstractmethod
    def map(self, item: RemoteItem) -> HarvestRecord:
        """Turn one item into a record. Raise HarvestError for a bad item."""


_KINDS: dict[str, type[SourceKind]] = {}


def register(name: str) -> Callable[[type[SourceKind]], type[SourceKind]]:
    def wrap(cls: type[SourceKind]) -> type[SourceKind]:
        cls.kind = name
        _KINDS[name] = cls
        return cls

    return wrap


def get_kind(name: str) -> type[SourceKind]:
    """The registered source kind `name` (its module is imported on first use)."""
    if name not in _KINDS:
        import importlib

        try:
            importlib.import_module(f"harvesters.{name}")
        except ModuleNotFoundError:
            pass
    if name not in _KINDS:
        raise HarvestError(
            f"Unknown source kind {name!r}; known kinds: {', '.join(sorted(known_kinds()))}",
            f"ไม่รู้จักประเภทแหล่งข้อมูล {name!r}",
        )
    return _KINDS[name]


KIND_MODULES = ("tabular", "ckan", "dcat", "datajson")


def known_kinds() -> list[str]:
    import importlib

    for module in KIND_MODULES:
        try:
            importlib.import_module(f"harvesters.{module}")
        except ModuleNotFoundError:
            continue
    return sorted(_KINDS)
