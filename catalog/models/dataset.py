"""Datasets (DCAT-AP + Thai GD Catalog profile), resources, tags and immutable versions."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from catalog.models.base import Base, IdMixin, JSONType, TimestampMixin, UTCDateTime
from catalog.models.organization import Group, Organization

dataset_tag = Table(
    "dataset_tag",
    Base.metadata,
    Column("dataset_id", ForeignKey("dataset.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True),
)

dataset_group = Table(
    "dataset_group",
    Base.metadata,
    Column("dataset_id", ForeignKey("dataset.id", ondelete="CASCADE"), primary_key=True),
    Column("group_id", ForeignKey("group.id", ondelete="CASCADE"), primary_key=True),
)


class Tag(IdMixin, Base):
    __tablename__ = "tag"

    name: Mapped[str] = mapped_column(String(100), unique=True)


class Dataset(IdMixin, TimestampMixin, Base):
    """A dataset. Fields people filter and sort on are columns; the rest of the profile is `extras`."""

    __tablename__ = "dataset"
    # The feeds' order (newest change first, then id): pages and keyset batches walk it.
    __table_args__ = (Index("ix_dataset_modified_id", "modified", "id"),)

    name: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(500))
    title_en: Mapped[str] = mapped_column(String(500), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    notes_en: Mapped[str] = mapped_column(Text, default="")
    owner_org_id: Mapped[str] = mapped_column(ForeignKey("organization.id"), index=True)
    private: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(20), default="published", index=True)
    license_id: Mapped[str] = mapped_column(String(40), default="")
    maintainer: Mapped[str] = mapped_column(String(500), default="")
    maintainer_email: Mapped[str] = mapped_column(String(254), default="")
    url: Mapped[str] = mapped_column(String(1000), default="")
    version: Mapped[str] = mapped_column(String(100), default="")
    issued: Mapped[date | None] = mapped_column(Date)
    fiscal_year: Mapped[int | None] = mapped_column(Integer, index=True)
    data_type: Mapped[str] = mapped_column(String(100), default="")
    data_category: Mapped[str] = mapped_column(String(100), default="")
    data_classification: Mapped[str] = mapped_column(String(100), default="")
    update_frequency_unit: Mapped[str] = mapped_column(String(100), default="")
    high_value_dataset: Mapped[bool] = mapped_column(Boolean, default=False)
    extras: Mapped[dict] = mapped_column(JSONType, default=dict)
    creator_user_id: Mapped[str | None] = mapped_column(ForeignKey("user.id"))
    version_number: Mapped[int] = mapped_column(Integer, default=0)

    organization: Mapped[Organization] = relationship()
    tags: Mapped[list[Tag]] = relationship(secondary=dataset_tag, order_by=Tag.name)
    groups: Mapped[list[Group]] = relationship(secondary=dataset_group, order_by=Group.name)
    resources: Mapped[list[Resource]] = relationship(
        back_populates="dataset", order_by="Resource.position", cascade="all, delete-orphan"
    )

    @property
    def active_groups(self) -> list[Group]:
        """The groups a dataset shows: a deleted group keeps its links but is not shown."""
        return [group for group in self.groups if group.state == "active"]


class Resource(IdMixin, TimestampMixin, Base):
    """A distribution: a stored file (content-addressed key) or a link."""

    __tablename__ = "resource"

    dataset_id: Mapped[str] = mapped_column(
        ForeignKey("dataset.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(500))
    name_en: Mapped[str] = mapped_column(String(500), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    format: Mapped[str] = mapped_column(String(40), default="")
    mimetype: Mapped[str] = mapped_column(String(200), default="")
    url: Mapped[str] = mapped_column(String(2000), default="")
    storage_key: Mapped[str | None] = mapped_column(String(200))
    filename: Mapped[str] = mapped_column(String(500), default="")
    size: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64), default="")
    table_schema: Mapped[dict | None] = mapped_column(JSONType)
    validation_status: Mapped[str] = mapped_column(String(20), default="not-validated")
    validation_report: Mapped[dict | None] = mapped_column(JSONType)
    # The normalised UTF-8 CSV made by a harvest, and the datastore table loaded from it.
    normalised_key: Mapped[str | None] = mapped_column(String(200))
    datastore_table: Mapped[str | None] = mapped_column(String(63))
    # The datastore's Parquet file (a storage key), queried with DuckDB; see catalog.services.datastore.
    datastore_key: Mapped[str | None] = mapped_column(String(200))
    datastore_rows: Mapped[int | None] = mapped_column(BigInteger)
    # "pending" queues a (re)load after the publish commits; see catalog.services.datastore.
    datastore_status: Mapped[str | None] = mapped_column(String(20), index=True)
    private: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(20), default="active")
    extras: Mapped[dict] = mapped_column(JSONType, default=dict)

    dataset: Mapped[Dataset] = relationship(back_populates="resources")


class DatasetVersion(IdMixin, Base):
    """An immutable snapshot of a dataset (metadata and resources) after one change."""

    __tablename__ = "dataset_version"
    __table_args__ = (UniqueConstraint("dataset_id", "number"),)

    dataset_id: Mapped[str] = mapped_column(
        ForeignKey("dataset.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    created: Mapped[datetime] = mapped_column(UTCDateTime)
    user_id: Mapped[str | None] = mapped_column(ForeignKey("user.id"))
    message: Mapped[str] = mapped_column(String(500), default="")
    snapshot: Mapped[dict] = mapped_column(JSONType)
