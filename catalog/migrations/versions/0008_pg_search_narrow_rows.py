"""PostgreSQL search: keep document rows narrow

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24

Only on PostgreSQL, like 0004. A document's tsvector (about 2.8 kB compressed) stayed in the
row when the row fit PostgreSQL's default 2 kB target, which made rows three times wider and
every scan of matching rows (counts, facets) slower. With a 256-byte target the toaster
compresses the texts and moves the tsvector out of line, as the rebuild's staging table does
(search/pg_rebuild.py copies the table's options). Rows already written keep their layout
until they are next written or the index is rebuilt.
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE search_index.document SET (toast_tuple_target = 256)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE search_index.document RESET (toast_tuple_target)")
