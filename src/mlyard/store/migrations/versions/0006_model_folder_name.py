"""model versions record the name of the folder they were registered from (Azure's model layout)

A scoring script reads a folder model as `$AZUREML_MODEL_DIR/<folder name>/<file>`, as on Azure;
versions registered before this revision have no name recorded and keep the flat layout.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-10 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("model_versions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("folder_name", sa.String(length=255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("model_versions", schema=None) as batch_op:
        batch_op.drop_column("folder_name")
