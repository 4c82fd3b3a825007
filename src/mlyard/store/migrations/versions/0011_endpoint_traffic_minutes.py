"""endpoint_traffic_minutes: the gateway's per-minute counts, persisted off the request path

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-10 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "endpoint_traffic_minutes",
        sa.Column("endpoint", sa.String(length=255), nullable=False),
        sa.Column("deployment", sa.String(length=255), nullable=False),
        sa.Column("minute", sa.DateTime(timezone=True), nullable=False),
        sa.Column("requests", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Integer(), nullable=False),
        sa.Column("status_counts", sa.JSON(), nullable=False),
        sa.Column("latency_buckets", sa.JSON(), nullable=False),
        sa.Column("mirror_outcomes", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("endpoint", "deployment", "minute"),
    )
    with op.batch_alter_table("endpoint_traffic_minutes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_endpoint_traffic_minutes_minute"), ["minute"], unique=False)


def downgrade() -> None:
    op.drop_table("endpoint_traffic_minutes")
