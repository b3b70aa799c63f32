"""Spreadsheet import (mappings, staged files, source_ref on a case) and duplicate detection of people
(blocking keys of every recorded person, the review queue, "not the same person", merges).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 13:50:00.000000

"""
from collections import defaultdict

from alembic import op
import sqlalchemy as sa

from casefile.core.partial_dates import PartialDate
from casefile.matching.score import PersonFacts, blocking_keys, prepare


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('duplicate_candidates',
    sa.Column('first_id', sa.Integer(), nullable=False),
    sa.Column('second_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('reasons', sa.JSON(), nullable=False),
    sa.Column('found_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('first_id < second_id', name=op.f('ck_duplicate_candidates_ordered_pair')),
    sa.ForeignKeyConstraint(['first_id'], ['persons.id'], name=op.f('fk_duplicate_candidates_first_id_persons'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['second_id'], ['persons.id'], name=op.f('fk_duplicate_candidates_second_id_persons'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('first_id', 'second_id', name=op.f('pk_duplicate_candidates'))
    )
    with op.batch_alter_table('duplicate_candidates', schema=None) as batch_op:
        batch_op.create_index('ix_duplicate_candidates_second', ['second_id'], unique=False)

    op.create_table('import_batches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('file_address', sa.String(length=64), nullable=True),
    sa.Column('file_sha256', sa.String(length=64), nullable=False),
    sa.Column('file_size', sa.BigInteger(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('columns', sa.JSON(), nullable=False),
    sa.Column('decisions', sa.JSON(), nullable=False),
    sa.Column('row_count', sa.Integer(), nullable=False),
    sa.Column('committed_at', sa.DateTime(), nullable=True),
    sa.Column('report', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_import_batches_created_by_id_users')),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_import_batches_team_id_teams')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_batches'))
    )
    with op.batch_alter_table('import_batches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_import_batches_created_by_id'), ['created_by_id'], unique=False)

    op.create_table('import_mappings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('columns', sa.JSON(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_import_mappings_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_mappings')),
    sa.UniqueConstraint('name', name=op.f('uq_import_mappings_name'))
    )
    op.create_table('person_distinctions',
    sa.Column('first_id', sa.Integer(), nullable=False),
    sa.Column('second_id', sa.Integer(), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=False),
    sa.Column('decided_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('first_id < second_id', name=op.f('ck_person_distinctions_ordered_pair')),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_person_distinctions_decided_by_id_users')),
    sa.ForeignKeyConstraint(['first_id'], ['persons.id'], name=op.f('fk_person_distinctions_first_id_persons'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['second_id'], ['persons.id'], name=op.f('fk_person_distinctions_second_id_persons'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('first_id', 'second_id', name=op.f('pk_person_distinctions'))
    )
    op.create_table('person_match_keys',
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_person_match_keys_person_id_persons'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('key', 'person_id', name=op.f('pk_person_match_keys'))
    )
    with op.batch_alter_table('person_match_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_person_match_keys_person_id'), ['person_id'], unique=False)

    op.create_table('person_merges',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kept_id', sa.Integer(), nullable=False),
    sa.Column('merged_id', sa.Integer(), nullable=False),
    sa.Column('merged_by_id', sa.Integer(), nullable=False),
    sa.Column('merged_at', sa.DateTime(), nullable=False),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('snapshot', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['kept_id'], ['persons.id'], name=op.f('fk_person_merges_kept_id_persons')),
    sa.ForeignKeyConstraint(['merged_by_id'], ['users.id'], name=op.f('fk_person_merges_merged_by_id_users')),
    sa.ForeignKeyConstraint(['merged_id'], ['persons.id'], name=op.f('fk_person_merges_merged_id_persons')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person_merges'))
    )
    with op.batch_alter_table('person_merges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_person_merges_kept_id'), ['kept_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_person_merges_merged_id'), ['merged_id'], unique=False)

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source_ref', sa.String(length=100), nullable=False, server_default=''))

    with op.batch_alter_table('persons', schema=None) as batch_op:
        # No foreign key: SQLite could add it only by rebuilding a table that others refer to
        # (person_merges, with its keys, is the record of the merge).
        batch_op.add_column(sa.Column('merged_into_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_persons_merged_into_id'), ['merged_into_id'], unique=False)

    _index_recorded_people()


def _index_recorded_people():
    """Blocking keys of the people recorded before this revision (later ones get theirs when saved)."""
    bind = op.get_bind()
    names = defaultdict(list)
    for person_id, text, script in bind.execute(sa.text(
            "SELECT person_id, text, script FROM person_names ORDER BY person_id, position")):
        names[person_id].append((text, script))
    rows = []
    for person_id, birth, sex, prc_id, iin, hometown in bind.execute(sa.text(
            "SELECT id, birth_date, sex, prc_id, iin, hometown_code FROM persons ORDER BY id")):
        facts = PersonFacts(names=names.get(person_id, []), birth_date=PartialDate.from_iso(birth) if birth else None,
                            sex=sex, prc_id=prc_id, iin=iin, hometown_code=hometown)
        rows += [{"key": key, "person_id": person_id} for key in sorted(blocking_keys(prepare(facts)))]
        if len(rows) >= 20_000:
            bind.execute(sa.text("INSERT INTO person_match_keys (key, person_id) VALUES (:key, :person_id)"), rows)
            rows = []
    if rows:
        bind.execute(sa.text("INSERT INTO person_match_keys (key, person_id) VALUES (:key, :person_id)"), rows)


def downgrade():
    op.drop_index(op.f('ix_persons_merged_into_id'), table_name='persons')
    # In place (SQLite 3.35+): a batch rebuild of persons would break the keys that refer to it.
    op.execute('ALTER TABLE persons DROP COLUMN merged_into_id')

    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('source_ref')

    with op.batch_alter_table('person_merges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_person_merges_merged_id'))
        batch_op.drop_index(batch_op.f('ix_person_merges_kept_id'))

    op.drop_table('person_merges')
    with op.batch_alter_table('person_match_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_person_match_keys_person_id'))

    op.drop_table('person_match_keys')
    op.drop_table('person_distinctions')
    op.drop_table('import_mappings')
    with op.batch_alter_table('import_batches', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_import_batches_created_by_id'))

    op.drop_table('import_batches')
    with op.batch_alter_table('duplicate_candidates', schema=None) as batch_op:
        batch_op.drop_index('ix_duplicate_candidates_second')

    op.drop_table('duplicate_candidates')
