"""record values in unbounded text columns

Revision ID: 0002
Revises: 0001

Columns filled from record values the registry controls (enum values it may add, free-text ZIP codes) were
varchar(n). PostgreSQL refused a longer value and with it the whole batch of studies; SQLite never enforced the
lengths. On PostgreSQL varchar -> text needs no table rewrite; SQLite needs nothing.
"""

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

# (table, column, old length)
_COLUMNS = (
    ("studies", "overall_status", 32),
    ("studies", "study_type", 32),
    ("studies", "phases", 64),
    ("studies", "sponsor_class", 16),
    ("studies", "sex", 8),
    ("sites", "zip", 32),
    ("sites", "status", 32),
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column, _length in _COLUMNS:
        op.alter_column(table, column, type_=sa.Text(), existing_nullable=True)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column, length in _COLUMNS:
        op.alter_column(table, column, type_=sa.String(length), existing_nullable=True,
                        postgresql_using=f"left({column}, {length})")
