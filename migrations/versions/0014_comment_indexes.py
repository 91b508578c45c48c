"""comment indexes (issue 8): comments.consultation_id loses its own index (both composite
indexes begin with it); citizen_id and hearing_id are indexed only where they are set

Revision ID: 0014_comment_indexes
Revises: 0013_index
Create Date: 2026-12-06 17:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014_comment_indexes'
down_revision = '0013_index'
branch_labels = None
depends_on = None

PARTIAL = ('citizen_id', 'hearing_id')


def upgrade():
    op.drop_index('ix_comments_consultation_id', table_name='comments')
    for column in PARTIAL:
        op.drop_index(f'ix_comments_{column}', table_name='comments')
        op.create_index(f'ix_comments_{column}', 'comments', [column], unique=False,
                        sqlite_where=sa.text(f'{column} IS NOT NULL'),
                        postgresql_where=sa.text(f'{column} IS NOT NULL'))


def downgrade():
    for column in PARTIAL:
        op.drop_index(f'ix_comments_{column}', table_name='comments')
        op.create_index(f'ix_comments_{column}', 'comments', [column], unique=False)
    op.create_index('ix_comments_consultation_id', 'comments', ['consultation_id'], unique=False)
