"""PostgreSQL search: the dataset name in a column of its own, indexed for the "name" sort

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08

Only on PostgreSQL, like 0004. The "name" sort (dataset slug in code-point order, ties by id)
read the name from `texts[5]`, which sorted every visible row for each page. The name gets a
`COLLATE "C"` column and a btree index on (name, id), the sort's order, so a page of it reads
the index in order and stops at its LIMIT. Existing rows take their name from `texts[5]`, which
then holds the four highlight texts only again, so no rebuild is needed; rows written before
the name was stored there get '' (sorted first, as Whoosh sorts a missing name) until they are
written again or the index is rebuilt. A rebuild's staging table copies the column and index
from the live table (search/pg_rebuild.py).
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

UPGRADE = (
    'ALTER TABLE search_index.document ADD COLUMN IF NOT EXISTS name text COLLATE "C" '
    "NOT NULL DEFAULT ''",
    # Sorts read it: inline, as the columns filters read (see 0004).
    "ALTER TABLE search_index.document ALTER COLUMN name SET STORAGE MAIN",
    # The update changes no facet value: the counts the triggers keep stay right, so the
    # triggers skip it (as in a rebuild) instead of reading every row's tsvector twice.
    "SELECT set_config('search_index.recount', 'later', true)",
    "UPDATE search_index.document SET name = COALESCE(texts[5], ''), texts = texts[1:4] "
    "WHERE cardinality(texts) > 4",
    "SELECT set_config('search_index.recount', '', true)",
    "CREATE INDEX IF NOT EXISTS document_name ON search_index.document (name, id)",
)

DOWNGRADE = (
    "SELECT set_config('search_index.recount', 'later', true)",
    # As the code before this revision writes it: the name after the four highlight texts.
    "UPDATE search_index.document SET texts = texts[1:4] || name",
    "SELECT set_config('search_index.recount', '', true)",
    "DROP INDEX IF EXISTS search_index.document_name",
    "ALTER TABLE search_index.document DROP COLUMN IF EXISTS name",
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in DOWNGRADE:
        op.execute(statement)
