"""Publishers (organisations) and groups (themes)."""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from catalog.models.base import Base, IdMixin, JSONType, TimestampMixin


class Organization(IdMixin, TimestampMixin, Base):
    __tablename__ = "organization"

    name: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(500))
    title_en: Mapped[str] = mapped_column(String(500), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    org_type: Mapped[str] = mapped_column(String(40), default="other")
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("organization.id"), index=True)
    email: Mapped[str] = mapped_column(String(254), default="")
    phone: Mapped[str] = mapped_column(String(50), default="")
    website: Mapped[str] = mapped_column(String(1000), default="")
    address: Mapped[str] = mapped_column(Text, default="")
    image_url: Mapped[str] = mapped_column(String(1000), default="")
    state: Mapped[str] = mapped_column(String(20), default="active")
    extras: Mapped[dict] = mapped_column(JSONType, default=dict)

    parent: Mapped[Organization | None] = relationship(remote_side="Organization.id")


class Group(IdMixin, TimestampMixin, Base):
    """A theme; `family` is one of the seven GD Catalog group families (category01..07)."""

    __tablename__ = "group"

    name: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(500))
    title_en: Mapped[str] = mapped_column(String(500), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    family: Mapped[str] = mapped_column(String(20), default="category07")
    image_url: Mapped[str] = mapped_column(String(1000), default="")
    state: Mapped[str] = mapped_column(String(20), default="active")
