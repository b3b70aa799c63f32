"""Dashboard: covering indexes so its counts read small index entries, never the wide case rows.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24 19:00:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index('ix_cases_dashboard', 'cases',
                    ['status', 'prefecture_code', 'restricted', 'team_id', 'created_by_id', 'created_at', 'person_id',
                     'detained_on'])
    op.create_index('ix_evidence_items_documents', 'evidence_items', ['case_id', 'entry', 'tombstoned_at'])
    op.create_index('ix_persons_hometown', 'persons', ['id', 'hometown_code'])


def downgrade():
    op.drop_index('ix_persons_hometown', table_name='persons')
    op.drop_index('ix_evidence_items_documents', table_name='evidence_items')
    op.drop_index('ix_cases_dashboard', table_name='cases')
