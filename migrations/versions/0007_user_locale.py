"""Accounts: the interface language each user chose (kk, ru or en; empty until they choose).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('locale', sa.String(length=8), nullable=False, server_default=''))


def downgrade():
    # Plain DROP COLUMN (SQLite 3.35+): a batch rebuild of `users` would trip the keys that point at it.
    op.drop_column('users', 'locale')
