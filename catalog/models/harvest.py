"""Harvest sources, jobs, per-object outcomes and the stable (source, remote id) → dataset map."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from catalog import clock
from catalog.models.base import Base, IdMixin, JSONType, UTCDateTime


class HarvestSource(IdMixin, Base):
    """A source of an organisation's harvest config, stored for scheduled runs."""

    __tablename__ = "harvest_source"
    __table_args__ = (UniqueConstraint("organization_id", "name"),)

    organization_id: Mapped[str] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(40))
    config: Mapped[dict] = mapped_column(JSONType)
    config_text: Mapped[str] = mapped_column(Text, default="")
    config_dir: Mapped[str] = mapped_column(String(1000), default="")
    frequency: Mapped[str] = mapped_column(String(20), default="manual")
    active: Mapped[bool] = mapped_column(default=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.utcnow)
    last_success: Mapped[datetime | None] = mapped_column(UTCDateTime)


class HarvestJob(IdMixin, Base):
    """One run of one source. `status`: running, done, failed, interrupted."""

    __tablename__ = "harvest_job"

    source_id: Mapped[str] = mapped_column(
        ForeignKey("harvest_source.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(20), default="running", index=True)
    dry_run: Mapped[bool] = mapped_column(default=False)
    started: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.utcnow)
    heartbeat: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.utcnow)
    finished: Mapped[datetime | None] = mapped_column(UTCDateTime)
    host: Mapped[str] = mapped_column(String(255), default="")
    pid: Mapped[int] = mapped_column(Integer, default=0)
    user_id: Mapped[str | None] = mapped_column(ForeignKey("user.id"))
    stage: Mapped[str] = mapped_column(String(20), default="gather")
    counts: Mapped[dict] = mapped_column(JSONType, default=dict)
    errors: Mapped[list] = mapped_column(JSONType, default=list)


class HarvestObject(IdMixin, Base):
    """The outcome for one remote item in one job.

    `status`: created, updated, unchanged, failed, held (personal data found), withdrawn,
    or would-create / would-update in a dry run.
    """

    __tablename__ = "harvest_object"

    job_id: Mapped[str] = mapped_column(
        ForeignKey("harvest_job.id", ondelete="CASCADE"), index=True
    )
    remote_id: Mapped[str] = mapped_column(String(1000))
    dataset_id: Mapped[str | None] = mapped_column(String(36))
    status: Mapped[str] = mapped_column(String(20))
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[list] = mapped_column(JSONType, default=list)
    report: Mapped[dict] = mapped_column(JSONType, default=dict)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.utcnow)


class HarvestMap(IdMixin, Base):
    """Which dataset a source's remote item became, and the hash of what was last published."""

    __tablename__ = "harvest_map"
    __table_args__ = (UniqueConstraint("source_id", "remote_id"),)

    source_id: Mapped[str] = mapped_column(
        ForeignKey("harvest_source.id", ondelete="CASCADE"), index=True
    )
    remote_id: Mapped[str] = mapped_column(String(1000))
    dataset_id: Mapped[str] = mapped_column(ForeignKey("dataset.id", ondelete="CASCADE"))
    content_hash: Mapped[str] = mapped_column(String(64), default="")
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.utcnow)
