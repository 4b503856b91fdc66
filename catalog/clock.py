"""The only source of "now" in Khlang, so tests and versions agree on time."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """Current time in UTC, timezone-aware, truncated to microseconds."""
    return datetime.now(UTC)
