"""comment group index (issue 8): comments.group_id is indexed only where it is set (a comment
is in no group when it is made, so its INSERT writes no entry)

Revision ID: 0016_comment_group_index
Revises: 0015_sqlite_count_trigger
Create Date: 2026-12-07 04:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016_comment_group_index'
down_revision = '0015_sqlite_count_trigger'
branch_labels = None
depends_on = None


def upgrade():
    op.drop_index('ix_comments_group_id', table_name='comments')
    op.create_index('ix_comments_group_id', 'comments', ['group_id'], unique=False,
                    sqlite_where=sa.text('group_id IS NOT NULL'),
                    postgresql_where=sa.text('group_id IS NOT NULL'))


def downgrade():
    op.drop_index('ix_comments_group_id', table_name='comments')
    op.create_index('ix_comments_group_id', 'comments', ['group_id'], unique=False)
