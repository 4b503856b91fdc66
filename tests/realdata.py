"""The real Thai sample files beside the checkout (../shared/data/real), for tests that read them."""

from __future__ import annotations

from pathlib import Path

from tests.servers import unavailable

SHARED = Path(__file__).resolve().parents[2] / "shared"
REAL = SHARED / "data" / "real"


def real_file(relative: str) -> Path:
    """A real sample file; skips on a laptop without ../shared, fails under CI=true."""
    path = REAL / relative
    if not path.exists():
        unavailable(f"real sample file {relative} is missing")
    return path
