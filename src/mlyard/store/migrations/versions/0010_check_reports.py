"""staging check reports recorded against the model version they checked

The approval gate (`require_passing_checks`) reads them: a protected alias moves only to a
version with a passing report of each required kind newer than its promotion request.

Revision ID: 0010
Revises: 0009
Create Date: 2027-01-20 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "check_reports",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("model_name", sa.String(length=255), nullable=False),
        sa.Column("model_version", sa.String(length=64), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("location", sa.Text(), nullable=True),
        sa.Column("job_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(["model_name"], ["models.name"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("check_reports", schema=None) as batch_op:
        batch_op.create_index("ix_check_reports_model", ["model_name", "model_version", "kind"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("check_reports", schema=None) as batch_op:
        batch_op.drop_index("ix_check_reports_model")
    op.drop_table("check_reports")
