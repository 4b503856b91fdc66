"""datastore load status on resources

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("resource", schema=None) as batch_op:
        batch_op.add_column(sa.Column("datastore_status", sa.String(length=20), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_resource_datastore_status"), ["datastore_status"], unique=False
        )
    # Tables loaded by earlier releases are live already.
    op.execute("UPDATE resource SET datastore_status = 'active' WHERE datastore_table IS NOT NULL")


def downgrade() -> None:
    with op.batch_alter_table("resource", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_resource_datastore_status"))
        batch_op.drop_column("datastore_status")
