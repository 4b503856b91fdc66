"""an index on dataset (modified, id): the feeds' order, so a deep page is not a sort

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-09
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The feeds list public datasets ORDER BY modified DESC, id DESC with LIMIT/OFFSET and
    # keyset conditions; without this index every page sorted every public row.
    op.create_index("ix_dataset_modified_id", "dataset", ["modified", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_dataset_modified_id", table_name="dataset")
