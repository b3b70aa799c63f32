"""The evidence log: items and their custody trail, which the database keeps append-only.

An item row is never deleted (removal is a tombstone, purge clears the bytes only); a
custody event is never changed or deleted.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 11:06:06.239871

"""
from alembic import op
import sqlalchemy as sa

PARTIAL_DATE = sa.String(length=10).with_variant(sa.String(length=10, collation='C'), 'postgresql')

SQLITE_UPGRADE = [
    """CREATE TRIGGER evidence_items_no_delete BEFORE DELETE ON evidence_items
        BEGIN SELECT RAISE(ABORT, 'evidence items are never deleted'); END""",
    """CREATE TRIGGER evidence_custody_no_update BEFORE UPDATE ON evidence_custody
        BEGIN SELECT RAISE(ABORT, 'the custody trail is append-only'); END""",
    """CREATE TRIGGER evidence_custody_no_delete BEFORE DELETE ON evidence_custody
        BEGIN SELECT RAISE(ABORT, 'the custody trail is append-only'); END""",
]
POSTGRES_UPGRADE = [
    """CREATE FUNCTION evidence_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'the evidence log is append-only (%)', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
        END
        $$""",
    """CREATE TRIGGER evidence_items_no_delete BEFORE DELETE ON evidence_items
        FOR EACH ROW EXECUTE FUNCTION evidence_append_only()""",
    """CREATE TRIGGER evidence_items_no_truncate BEFORE TRUNCATE ON evidence_items
        FOR EACH STATEMENT EXECUTE FUNCTION evidence_append_only()""",
    """CREATE TRIGGER evidence_custody_no_change BEFORE UPDATE OR DELETE ON evidence_custody
        FOR EACH ROW EXECUTE FUNCTION evidence_append_only()""",
    """CREATE TRIGGER evidence_custody_no_truncate BEFORE TRUNCATE ON evidence_custody
        FOR EACH STATEMENT EXECUTE FUNCTION evidence_append_only()""",
]


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('evidence_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('entry', sa.String(length=10), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('source', sa.String(length=1000), nullable=False),
    sa.Column('document_date', PARTIAL_DATE, nullable=True),
    sa.Column('original_url', sa.String(length=2000), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('type_label', sa.String(length=100), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('blob_address', sa.String(length=64), nullable=True),
    sa.Column('preview', sa.LargeBinary(), nullable=True),
    sa.Column('has_preview', sa.Boolean(), nullable=False),
    sa.Column('corrects_id', sa.Integer(), nullable=True),
    sa.Column('added_by_id', sa.Integer(), nullable=False),
    sa.Column('added_at', sa.DateTime(), nullable=False),
    sa.Column('tombstoned_at', sa.DateTime(), nullable=True),
    sa.Column('tombstoned_by_id', sa.Integer(), nullable=True),
    sa.Column('tombstone_reason', sa.String(length=1000), nullable=False),
    sa.Column('purged_at', sa.DateTime(), nullable=True),
    sa.Column('purge_reason', sa.String(length=1000), nullable=False),
    sa.ForeignKeyConstraint(['added_by_id'], ['users.id'], name=op.f('fk_evidence_items_added_by_id_users')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_evidence_items_case_id_cases')),
    sa.ForeignKeyConstraint(['corrects_id'], ['evidence_items.id'], name=op.f('fk_evidence_items_corrects_id_evidence_items')),
    sa.ForeignKeyConstraint(['tombstoned_by_id'], ['users.id'], name=op.f('fk_evidence_items_tombstoned_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evidence_items'))
    )
    with op.batch_alter_table('evidence_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evidence_items_blob_address'), ['blob_address'], unique=False)
        batch_op.create_index('ix_evidence_items_case_added', ['case_id', 'added_at', 'id'], unique=False)
        batch_op.create_index('ix_evidence_items_case_sha256', ['case_id', 'sha256'], unique=False)
        batch_op.create_index(batch_op.f('ix_evidence_items_corrects_id'), ['corrects_id'], unique=False)

    op.create_table('evidence_custody',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('evidence_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=30), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_label', sa.String(length=100), nullable=False),
    sa.Column('occurred_at', sa.DateTime(), nullable=False),
    sa.Column('reference', sa.String(length=100), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_evidence_custody_actor_id_users')),
    sa.ForeignKeyConstraint(['evidence_id'], ['evidence_items.id'], name=op.f('fk_evidence_custody_evidence_id_evidence_items')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evidence_custody'))
    )
    with op.batch_alter_table('evidence_custody', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evidence_custody_evidence_id'), ['evidence_id'], unique=False)

    for statement in POSTGRES_UPGRADE if op.get_bind().dialect.name == 'postgresql' else SQLITE_UPGRADE:
        op.execute(statement)


def downgrade():
    # Dropping the tables drops their triggers.
    with op.batch_alter_table('evidence_custody', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evidence_custody_evidence_id'))

    op.drop_table('evidence_custody')
    with op.batch_alter_table('evidence_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evidence_items_corrects_id'))
        batch_op.drop_index('ix_evidence_items_case_sha256')
        batch_op.drop_index('ix_evidence_items_case_added')
        batch_op.drop_index(batch_op.f('ix_evidence_items_blob_address'))

    op.drop_table('evidence_items')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP FUNCTION IF EXISTS evidence_append_only()")
