"""monitor_alerts: each monitor signal's alert state (breached since, by which run, last values)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-12 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "monitor_alerts",
        sa.Column("monitor", sa.String(length=255), nullable=False),
        sa.Column("signal", sa.String(length=255), nullable=False),
        sa.Column("signal_type", sa.String(length=64), nullable=False),
        sa.Column("breached_since", _TIME, nullable=True),
        sa.Column("breach_job_id", sa.String(length=64), nullable=True),
        sa.Column("last_job_id", sa.String(length=64), nullable=False),
        sa.Column("last_values", sa.JSON(), nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("monitor", "signal"),
    )


def downgrade() -> None:
    op.drop_table("monitor_alerts")
