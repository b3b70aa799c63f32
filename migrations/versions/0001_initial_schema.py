"""Initial schema: accounts, teams, persons and names, cases, reporters, consent, audit events.

Revision ID: 0001
Revises: 
Create Date: 2026-11-24 08:52:37.525647

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('audit_events',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_username', sa.String(length=64), nullable=False),
    sa.Column('actor_role', sa.String(length=20), nullable=False),
    sa.Column('action', sa.String(length=60), nullable=False),
    sa.Column('object_type', sa.String(length=40), nullable=False),
    sa.Column('object_id', sa.String(length=64), nullable=False),
    sa.Column('case_ref', sa.String(length=20), nullable=True),
    sa.Column('client_addr', sa.String(length=64), nullable=False),
    sa.Column('outcome', sa.String(length=20), nullable=False),
    sa.Column('details', sa.Text(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events')),
    sa.UniqueConstraint('seq', name=op.f('uq_audit_events_seq'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_action'), ['action'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_actor_id'), ['actor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_case_ref'), ['case_ref'], unique=False)

    op.create_table('persons',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sex', sa.String(length=1), nullable=True),
    sa.Column('birth_date', sa.String(length=10).with_variant(sa.String(length=10, collation='C'), 'postgresql'), nullable=True),
    sa.Column('ethnicity', sa.String(length=60), nullable=False),
    sa.Column('prc_id', sa.String(length=18), nullable=True),
    sa.Column('iin', sa.String(length=12), nullable=True),
    sa.Column('hometown_code', sa.String(length=6), nullable=True),
    sa.Column('hometown_village', sa.String(length=200), nullable=False),
    sa.Column('occupation', sa.String(length=200), nullable=False),
    sa.Column('citizenship', sa.String(length=20), nullable=False),
    sa.Column('kz_documents', sa.String(length=200), nullable=False),
    sa.Column('kazakhstan_ties', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_persons'))
    )
    with op.batch_alter_table('persons', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_persons_iin'), ['iin'], unique=False)
        batch_op.create_index(batch_op.f('ix_persons_prc_id'), ['prc_id'], unique=False)

    op.create_table('reference_counters',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_reference_counters'))
    )
    op.create_table('teams',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_teams')),
    sa.UniqueConstraint('name', name=op.f('uq_teams_name'))
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('session_version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('last_login_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("role IN ('advocate','coordinator','auditor','admin')", name=op.f('ck_users_role')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    op.create_table('cases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=20), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.Column('prefecture_code', sa.String(length=6), nullable=True),
    sa.Column('status', sa.String(length=30), nullable=False),
    sa.Column('verification_level', sa.Integer(), nullable=False),
    sa.Column('detained_on', sa.String(length=10).with_variant(sa.String(length=10, collation='C'), 'postgresql'), nullable=True),
    sa.Column('last_contact_on', sa.String(length=10).with_variant(sa.String(length=10, collation='C'), 'postgresql'), nullable=True),
    sa.Column('trial_on', sa.String(length=10).with_variant(sa.String(length=10, collation='C'), 'postgresql'), nullable=True),
    sa.Column('release_on', sa.String(length=10).with_variant(sa.String(length=10, collation='C'), 'postgresql'), nullable=True),
    sa.Column('detention_facility', sa.String(length=200), nullable=False),
    sa.Column('detention_city', sa.String(length=200), nullable=False),
    sa.Column('alleged_reasons', sa.JSON(), nullable=False),
    sa.Column('alleged_reason_other', sa.String(length=1000), nullable=False),
    sa.Column('sentence', sa.String(length=500), nullable=False),
    sa.Column('narrative', sa.Text(), nullable=False),
    sa.Column('restricted', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint('verification_level BETWEEN 0 AND 4', name=op.f('ck_cases_verification_level')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_cases_created_by_id_users')),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_cases_person_id_persons')),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_cases_team_id_teams')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cases')),
    sa.UniqueConstraint('reference', name=op.f('uq_cases_reference'))
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_access', ['restricted', 'team_id', 'created_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_created_by_id'), ['created_by_id'], unique=False)
        batch_op.create_index('ix_cases_detained_id', ['detained_on', 'id', 'restricted', 'team_id', 'created_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_person_id'), ['person_id'], unique=False)
        batch_op.create_index('ix_cases_prefecture', ['prefecture_code', 'status', 'detained_on'], unique=False)
        batch_op.create_index('ix_cases_status', ['status', 'detained_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_team_id'), ['team_id'], unique=False)
        batch_op.create_index('ix_cases_updated_id', ['updated_at', 'id', 'restricted', 'team_id', 'created_by_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_verification_level'), ['verification_level'], unique=False)

    op.create_table('person_names',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('script', sa.String(length=10), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('text', sa.String(length=200), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_person_names_person_id_persons'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_person_names'))
    )
    with op.batch_alter_table('person_names', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_person_names_person_id'), ['person_id'], unique=False)

    op.create_table('user_teams',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('team_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_user_teams_team_id_teams'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_user_teams_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'team_id', name=op.f('pk_user_teams'))
    )
    with op.batch_alter_table('user_teams', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_teams_team_id'), ['team_id'], unique=False)

    op.create_table('case_named_users',
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_named_users_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_case_named_users_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('case_id', 'user_id', name=op.f('pk_case_named_users'))
    )
    with op.batch_alter_table('case_named_users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_named_users_user_id'), ['user_id'], unique=False)

    op.create_table('case_status_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=30), nullable=False),
    sa.Column('occurred_on', sa.String(length=10).with_variant(sa.String(length=10, collation='C'), 'postgresql'), nullable=True),
    sa.Column('source', sa.String(length=500), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_status_events_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_case_status_events_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_status_events'))
    )
    with op.batch_alter_table('case_status_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_status_events_case_id'), ['case_id'], unique=False)

    op.create_table('name_tokens',
    sa.Column('name_id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=64).with_variant(sa.String(length=64, collation='C'), 'postgresql'), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['name_id'], ['person_names.id'], name=op.f('fk_name_tokens_name_id_person_names'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_name_tokens_person_id_persons'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('name_id', 'token', name=op.f('pk_name_tokens'))
    )
    with op.batch_alter_table('name_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_name_tokens_person_id'), ['person_id'], unique=False)
        batch_op.create_index('ix_name_tokens_token_person', ['token', 'person_id'], unique=False)

    op.create_table('reporters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('full_name', sa.String(length=200), nullable=False),
    sa.Column('relationship_kind', sa.String(length=30), nullable=False),
    sa.Column('relationship_detail', sa.String(length=200), nullable=False),
    sa.Column('contact_sealed', sa.LargeBinary(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_reporters_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_reporters_created_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reporters'))
    )
    with op.batch_alter_table('reporters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reporters_case_id'), ['case_id'], unique=False)

    op.create_table('timeline_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('occurred_on', sa.String(length=10).with_variant(sa.String(length=10, collation='C'), 'postgresql'), nullable=True),
    sa.Column('place', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('source', sa.String(length=500), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_timeline_events_case_id_cases'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_timeline_events_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_timeline_events'))
    )
    with op.batch_alter_table('timeline_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_timeline_events_case_id'), ['case_id'], unique=False)

    op.create_table('consents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reporter_id', sa.Integer(), nullable=False),
    sa.Column('recipient_kind', sa.String(length=20), nullable=False),
    sa.Column('disclose_identity', sa.Boolean(), nullable=False),
    sa.Column('given_on', sa.Date(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.Column('withdrawn_on', sa.Date(), nullable=True),
    sa.Column('withdrawn_by_id', sa.Integer(), nullable=True),
    sa.Column('withdrawn_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_consents_recorded_by_id_users')),
    sa.ForeignKeyConstraint(['reporter_id'], ['reporters.id'], name=op.f('fk_consents_reporter_id_reporters'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['withdrawn_by_id'], ['users.id'], name=op.f('fk_consents_withdrawn_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consents'))
    )
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consents_reporter_id'), ['reporter_id'], unique=False)



def downgrade():
    with op.batch_alter_table('consents', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consents_reporter_id'))

    op.drop_table('consents')
    with op.batch_alter_table('timeline_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_timeline_events_case_id'))

    op.drop_table('timeline_events')
    with op.batch_alter_table('reporters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reporters_case_id'))

    op.drop_table('reporters')
    with op.batch_alter_table('name_tokens', schema=None) as batch_op:
        batch_op.drop_index('ix_name_tokens_token_person')
        batch_op.drop_index(batch_op.f('ix_name_tokens_person_id'))

    op.drop_table('name_tokens')
    with op.batch_alter_table('case_status_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_status_events_case_id'))

    op.drop_table('case_status_events')
    with op.batch_alter_table('case_named_users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_named_users_user_id'))

    op.drop_table('case_named_users')
    with op.batch_alter_table('user_teams', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_teams_team_id'))

    op.drop_table('user_teams')
    with op.batch_alter_table('person_names', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_person_names_person_id'))

    op.drop_table('person_names')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cases_verification_level'))
        batch_op.drop_index('ix_cases_updated_id')
        batch_op.drop_index(batch_op.f('ix_cases_team_id'))
        batch_op.drop_index('ix_cases_status')
        batch_op.drop_index('ix_cases_prefecture')
        batch_op.drop_index(batch_op.f('ix_cases_person_id'))
        batch_op.drop_index('ix_cases_detained_id')
        batch_op.drop_index(batch_op.f('ix_cases_created_by_id'))
        batch_op.drop_index('ix_cases_access')

    op.drop_table('cases')
    op.drop_table('users')
    op.drop_table('teams')
    op.drop_table('reference_counters')
    with op.batch_alter_table('persons', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_persons_prc_id'))
        batch_op.drop_index(batch_op.f('ix_persons_iin'))

    op.drop_table('persons')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_case_ref'))
        batch_op.drop_index(batch_op.f('ix_audit_events_actor_id'))
        batch_op.drop_index(batch_op.f('ix_audit_events_action'))

    op.drop_table('audit_events')
