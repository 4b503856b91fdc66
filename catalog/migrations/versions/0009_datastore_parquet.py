"""datastore Parquet file on resources

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("resource", schema=None) as batch_op:
        batch_op.add_column(sa.Column("datastore_key", sa.String(length=200), nullable=True))
    # The datastore now answers from a Parquet file per resource version: tables loaded by
    # earlier releases are queued again, and `khlang datastore load` writes their files
    # (their SQL tables serve nothing meanwhile, so such a resource answers NotFound until then).
    op.execute("UPDATE resource SET datastore_status = 'pending' WHERE datastore_status = 'active'")


def downgrade() -> None:
    with op.batch_alter_table("resource", schema=None) as batch_op:
        batch_op.drop_column("datastore_key")
