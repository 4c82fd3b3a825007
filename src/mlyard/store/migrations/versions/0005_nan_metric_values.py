"""metric values may be NULL: NULL stores a NaN point (SQLite cannot hold NaN; see store/jobs.py)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-08 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Batch mode: SQLite cannot drop a NOT NULL constraint in place, so the table is copied.
    for table in ("metrics", "latest_metrics"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("value", existing_type=sa.Float(), nullable=True)


def downgrade() -> None:
    # NaN points have no NOT NULL form: they are dropped, as the older schema could not hold them.
    for table in ("metrics", "latest_metrics"):
        op.execute(sa.text(f"DELETE FROM {table} WHERE value IS NULL"))
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column("value", existing_type=sa.Float(), nullable=False)
