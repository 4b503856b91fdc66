"""Activity stream: who did what, when, to which object."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from catalog import clock
from catalog.models.base import Base, IdMixin, JSONType, UTCDateTime


class Activity(IdMixin, Base):
    __tablename__ = "activity"

    timestamp: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.utcnow, index=True)
    user_id: Mapped[str | None] = mapped_column(ForeignKey("user.id"))
    activity_type: Mapped[str] = mapped_column(String(50))
    object_type: Mapped[str] = mapped_column(String(30))
    object_id: Mapped[str] = mapped_column(String(36), index=True)
    data: Mapped[dict] = mapped_column(JSONType, default=dict)
