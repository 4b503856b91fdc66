"""harvest jobs and datastore columns

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import catalog.models.base

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "harvest_source",
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("config", catalog.models.base.JSONType, nullable=False),
        sa.Column("config_text", sa.Text(), nullable=False),
        sa.Column("config_dir", sa.String(length=1000), nullable=False),
        sa.Column("frequency", sa.String(length=20), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created", catalog.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_success", catalog.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_harvest_source_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_harvest_source")),
        sa.UniqueConstraint(
            "organization_id", "name", name=op.f("uq_harvest_source_organization_id")
        ),
    )
    with op.batch_alter_table("harvest_source", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_harvest_source_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "harvest_job",
        sa.Column("source_id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("dry_run", sa.Boolean(), nullable=False),
        sa.Column("started", catalog.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("heartbeat", catalog.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished", catalog.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=True),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("counts", catalog.models.base.JSONType, nullable=False),
        sa.Column("errors", catalog.models.base.JSONType, nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["harvest_source.id"],
            name=op.f("fk_harvest_job_source_id_harvest_source"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], name=op.f("fk_harvest_job_user_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_harvest_job")),
    )
    with op.batch_alter_table("harvest_job", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_harvest_job_source_id"), ["source_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_harvest_job_status"), ["status"], unique=False)

    op.create_table(
        "harvest_map",
        sa.Column("source_id", sa.String(length=36), nullable=False),
        sa.Column("remote_id", sa.String(length=1000), nullable=False),
        sa.Column("dataset_id", sa.String(length=36), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("last_seen", catalog.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["dataset_id"],
            ["dataset.id"],
            name=op.f("fk_harvest_map_dataset_id_dataset"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["harvest_source.id"],
            name=op.f("fk_harvest_map_source_id_harvest_source"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_harvest_map")),
        sa.UniqueConstraint("source_id", "remote_id", name=op.f("uq_harvest_map_source_id")),
    )
    with op.batch_alter_table("harvest_map", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_harvest_map_source_id"), ["source_id"], unique=False)

    op.create_table(
        "harvest_object",
        sa.Column("job_id", sa.String(length=36), nullable=False),
        sa.Column("remote_id", sa.String(length=1000), nullable=False),
        sa.Column("dataset_id", sa.String(length=36), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("errors", catalog.models.base.JSONType, nullable=False),
        sa.Column("report", catalog.models.base.JSONType, nullable=False),
        sa.Column("created", catalog.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["harvest_job.id"],
            name=op.f("fk_harvest_object_job_id_harvest_job"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_harvest_object")),
    )
    with op.batch_alter_table("harvest_object", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_harvest_object_job_id"), ["job_id"], unique=False)

    with op.batch_alter_table("resource", schema=None) as batch_op:
        batch_op.add_column(sa.Column("normalised_key", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("datastore_table", sa.String(length=63), nullable=True))
        batch_op.add_column(sa.Column("datastore_rows", sa.BigInteger(), nullable=True))


def downgrade() -> None:

    with op.batch_alter_table("resource", schema=None) as batch_op:
        batch_op.drop_column("datastore_rows")
        batch_op.drop_column("datastore_table")
        batch_op.drop_column("normalised_key")

    with op.batch_alter_table("harvest_object", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_harvest_object_job_id"))

    op.drop_table("harvest_object")
    with op.batch_alter_table("harvest_map", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_harvest_map_source_id"))

    op.drop_table("harvest_map")
    with op.batch_alter_table("harvest_job", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_harvest_job_status"))
        batch_op.drop_index(batch_op.f("ix_harvest_job_source_id"))

    op.drop_table("harvest_job")
    with op.batch_alter_table("harvest_source", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_harvest_source_organization_id"))

    op.drop_table("harvest_source")
