"""find (issue 12): the bulk tables of /data built by the worker and kept in built_files

Revision ID: 0012_find
Revises: 0012_oversight
Create Date: 2026-12-06 10:59:14.922574

"""
from alembic import op
import sqlalchemy as sa

import consult.types


# revision identifiers, used by Alembic.
revision = '0012_find'
down_revision = '0012_oversight'
branch_labels = None
depends_on = None

OLD_ONE_OWNER = '(report_id IS NULL) <> (policy_id IS NULL)'
ONE_OWNER = ('(CASE WHEN report_id IS NULL THEN 0 ELSE 1 END)'
             ' + (CASE WHEN policy_id IS NULL THEN 0 ELSE 1 END)'
             ' + (CASE WHEN dataset IS NULL THEN 0 ELSE 1 END) = 1')


def upgrade():
    # A built file may now be a snapshot of a bulk table (`dataset`); on SQLite the table is
    # rebuilt with the bytes still last (columns after a large one are read through its
    # overflow pages).
    with op.batch_alter_table(
            'built_files', schema=None,
            partial_reordering=[('created_at', 'dataset', 'stamp', 'checked_at', 'data')]
    ) as batch_op:
        batch_op.add_column(sa.Column('dataset', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('stamp', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('checked_at', consult.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_unique_constraint('dataset_format', ['dataset', 'format', 'locale'])
        batch_op.drop_constraint(op.f('ck_built_files_one_owner'), type_='check')
        batch_op.create_check_constraint('one_owner', sa.text(ONE_OWNER))


def downgrade():
    op.execute("DELETE FROM built_files WHERE dataset IS NOT NULL")
    with op.batch_alter_table('built_files', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_built_files_one_owner'), type_='check')
        batch_op.create_check_constraint('one_owner', sa.text(OLD_ONE_OWNER))
        batch_op.drop_constraint('dataset_format', type_='unique')
        batch_op.drop_column('checked_at')
        batch_op.drop_column('stamp')
        batch_op.drop_column('dataset')
