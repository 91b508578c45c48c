"""unindexed comments (issue 8): the comments waiting for their search index rows are listed in
a table of their own (`unindexed_comments`), filled by the comment's INSERT statement and
emptied by the indexer's DELETE, instead of the flag `comments.index_pending`, whose clearing
rewrote the comment's row and all its index entries. The comments flagged when it runs are
listed; on SQLite the trigger that lists every published comment inserted is made.

On SQLite the column goes by ALTER TABLE ... DROP COLUMN (3.35+), not by a rebuild of the table
(which would drop its triggers, `comments_counted` among them).

Revision ID: 0017_unindexed_comments
Revises: 0016_comment_group_index
Create Date: 2026-12-07 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017_unindexed_comments'
down_revision = '0016_comment_group_index'
branch_labels = None
depends_on = None

TRIGGER = (
    "CREATE TRIGGER IF NOT EXISTS comments_unindexed AFTER INSERT ON comments "
    "WHEN NEW.status = 'published' BEGIN "
    "INSERT INTO unindexed_comments (comment_id) VALUES (NEW.id); END"
)


def upgrade():
    op.create_table(
        'unindexed_comments',
        sa.Column('comment_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint('comment_id', name=op.f('pk_unindexed_comments')),
    )
    op.execute('INSERT INTO unindexed_comments (comment_id) '
               'SELECT id FROM comments WHERE index_pending = TRUE')
    op.drop_index('ix_comments_index_pending', table_name='comments')
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE comments DROP COLUMN index_pending')
        op.execute(TRIGGER)
    else:
        op.drop_column('comments', 'index_pending')


def downgrade():
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('DROP TRIGGER IF EXISTS comments_unindexed')
    op.add_column('comments', sa.Column('index_pending', sa.Boolean(), server_default=sa.false(),
                                        nullable=False))
    op.execute('UPDATE comments SET index_pending = TRUE '
               'WHERE id IN (SELECT comment_id FROM unindexed_comments)')
    op.create_index('ix_comments_index_pending', 'comments', ['index_pending'], unique=False,
                    sqlite_where=sa.text('index_pending = 1'),
                    postgresql_where=sa.text('index_pending'))
    op.drop_table('unindexed_comments')
