"""index (issue 8): comments.index_pending, the search index rows written after the commit

Revision ID: 0013_index
Revises: 0013_counts
Create Date: 2026-12-06 13:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013_index'
down_revision = '0013_counts'
branch_labels = None
depends_on = None


def upgrade():
    # Existing comments are indexed already (their rows were written in their transaction):
    # false for all of them. On SQLite an ADD COLUMN, not a rebuild of the table.
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('index_pending', sa.Boolean(), server_default=sa.false(),
                                      nullable=False))
        batch_op.create_index('ix_comments_index_pending', ['index_pending'], unique=False,
                              sqlite_where=sa.text('index_pending = 1'),
                              postgresql_where=sa.text('index_pending'))


def downgrade():
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_index('ix_comments_index_pending',
                            sqlite_where=sa.text('index_pending = 1'),
                            postgresql_where=sa.text('index_pending'))
        batch_op.drop_column('index_pending')
