"""The search outbox: datasets whose index entry must be refreshed after a commit.

Rows are written in the same transaction as the change and removed once indexed, so a crash
between the commit and the indexing is repaired the next time the outbox is drained.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from catalog import clock
from catalog.models.base import Base, UTCDateTime


class SearchOutbox(Base):
    __tablename__ = "search_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dataset_id: Mapped[str] = mapped_column(String(36), index=True)
    created: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.utcnow)
