"""Petition packets: recipients (seeded), packets and their cases, submissions and answers; and two case
fields the UN WGEID form needs.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 12:10:00.000000

"""
from datetime import datetime

from alembic import op
import sqlalchemy as sa

from casefile.packets.recipients import seeded_rows

# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('responsible_authority', sa.String(length=500), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('family_steps', sa.Text(), nullable=False, server_default=''))

    recipients = op.create_table('recipients',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('address', sa.Text(), nullable=False),
    sa.Column('consent_kind', sa.String(length=20), nullable=False),
    sa.Column('languages', sa.JSON(), nullable=False),
    sa.Column('form', sa.String(length=10), nullable=False),
    sa.Column('policy', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recipients')),
    sa.UniqueConstraint('code', name=op.f('uq_recipients_code'))
    )
    op.create_table('packets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=20), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=5), nullable=False),
    sa.Column('form', sa.String(length=10), nullable=False),
    sa.Column('built_by_id', sa.Integer(), nullable=False),
    sa.Column('built_at', sa.DateTime(), nullable=False),
    sa.Column('case_count', sa.Integer(), nullable=False),
    sa.Column('left_out', sa.JSON(), nullable=False),
    sa.Column('inputs_sealed', sa.LargeBinary(), nullable=False),
    sa.Column('inputs_sha256', sa.String(length=64), nullable=False),
    sa.Column('pdf_address', sa.String(length=64), nullable=False),
    sa.Column('pdf_sha256', sa.String(length=64), nullable=False),
    sa.Column('pdf_size', sa.BigInteger(), nullable=False),
    sa.Column('audit_head', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['built_by_id'], ['users.id'], name=op.f('fk_packets_built_by_id_users')),
    sa.ForeignKeyConstraint(['recipient_id'], ['recipients.id'], name=op.f('fk_packets_recipient_id_recipients')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_packets')),
    sa.UniqueConstraint('reference', name=op.f('uq_packets_reference'))
    )
    with op.batch_alter_table('packets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_packets_recipient_id'), ['recipient_id'], unique=False)

    op.create_table('packet_cases',
    sa.Column('packet_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('consent_ids', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_packet_cases_case_id_cases')),
    sa.ForeignKeyConstraint(['packet_id'], ['packets.id'], name=op.f('fk_packet_cases_packet_id_packets')),
    sa.PrimaryKeyConstraint('packet_id', 'case_id', name=op.f('pk_packet_cases'))
    )
    with op.batch_alter_table('packet_cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_packet_cases_case_id'), ['case_id'], unique=False)

    op.create_table('submissions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('packet_id', sa.Integer(), nullable=False),
    sa.Column('handed_over_on', sa.Date(), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('handed_over_by', sa.String(length=200), nullable=False),
    sa.Column('receipt_number', sa.String(length=100), nullable=False),
    sa.Column('receipt_filename', sa.String(length=255), nullable=False),
    sa.Column('receipt_type', sa.String(length=100), nullable=False),
    sa.Column('receipt_size', sa.BigInteger(), nullable=False),
    sa.Column('receipt_sha256', sa.String(length=64), nullable=False),
    sa.Column('receipt_address', sa.String(length=64), nullable=True),
    sa.Column('follow_up_on', sa.Date(), nullable=True),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['packet_id'], ['packets.id'], name=op.f('fk_submissions_packet_id_packets')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_submissions_recorded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_submissions'))
    )
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_submissions_follow_up_on'), ['follow_up_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_submissions_packet_id'), ['packet_id'], unique=False)

    op.create_table('responses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], name=op.f('fk_responses_recorded_by_id_users')),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], name=op.f('fk_responses_submission_id_submissions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_responses'))
    )
    with op.batch_alter_table('responses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_responses_submission_id'), ['submission_id'], unique=False)

    op.create_table('response_outcomes',
    sa.Column('response_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('outcome', sa.String(length=30), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_response_outcomes_case_id_cases')),
    sa.ForeignKeyConstraint(['response_id'], ['responses.id'], name=op.f('fk_response_outcomes_response_id_responses')),
    sa.PrimaryKeyConstraint('response_id', 'case_id', name=op.f('pk_response_outcomes'))
    )
    with op.batch_alter_table('response_outcomes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_response_outcomes_case_id'), ['case_id'], unique=False)

    op.bulk_insert(recipients, seeded_rows(datetime(2026, 11, 24)))


def downgrade():
    for table, indexes in (('response_outcomes', ['ix_response_outcomes_case_id']),
                           ('responses', ['ix_responses_submission_id']),
                           ('submissions', ['ix_submissions_packet_id', 'ix_submissions_follow_up_on'])):
        with op.batch_alter_table(table, schema=None) as batch_op:
            for index in indexes:
                batch_op.drop_index(index)
        op.drop_table(table)
    with op.batch_alter_table('packet_cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_packet_cases_case_id'))
    op.drop_table('packet_cases')
    with op.batch_alter_table('packets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_packets_recipient_id'))
    op.drop_table('packets')
    op.drop_table('recipients')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('family_steps')
        batch_op.drop_column('responsible_authority')
