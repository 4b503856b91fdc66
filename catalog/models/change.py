"""One counter of committed catalogue changes.

Every write transaction of the services adds one to it before committing, in the same
transaction, so a reader that sees an unchanged counter knows nothing it read has changed since:
the API's response caches in every server process are checked against it.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer
from sqlalchemy.orm import Mapped, mapped_column

from catalog.models.base import Base


class CatalogueChange(Base):
    __tablename__ = "catalogue_change"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    counter: Mapped[int] = mapped_column(BigInteger)
