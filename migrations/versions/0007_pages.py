"""pages: comment counts kept per consultation and status; comments read in public order

- comment_counts: how many comments each consultation has in each status, as a few shard rows
  (consult/comments/counts.py keeps them as comments are written); backfilled here from the
  comments already there (one row per consultation and status, shard 0);
- ix_comments_public_order (consultation_id, status, created_at, id) replaces
  ix_comments_consultation_status (its prefix): a page of a consultation's published comments,
  oldest first, is read in index order instead of sorting them all;
- on SQLite, `reports` rebuilt with `content` (a report's frozen JSON, 50 MB at 100 000
  comments) as its last column, as the model declares it: reading a column stored after it
  walked its overflow pages on every consultation page (~8 ms at 10 000 comments, bench/README.md).

Revision ID: 0007_pages
Revises: 0003_house
Create Date: 2026-12-06 07:24:28.346780

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007_pages'
down_revision = '0003_house'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('comment_counts',
    sa.Column('consultation_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('shard', sa.SmallInteger(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['consultation_id'], ['consultations.id'], name=op.f('fk_comment_counts_consultation_id_consultations')),
    sa.PrimaryKeyConstraint('consultation_id', 'status', 'shard', name=op.f('pk_comment_counts'))
    )
    op.execute(
        "INSERT INTO comment_counts (consultation_id, status, shard, n) "
        "SELECT consultation_id, status, 0, count(id) FROM comments "
        "GROUP BY consultation_id, status"
    )
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.create_index('ix_comments_public_order', ['consultation_id', 'status', 'created_at', 'id'], unique=False)
        batch_op.drop_index(batch_op.f('ix_comments_consultation_status'))
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table('reports', recreate='always', partial_reordering=[(
                'id', 'consultation_id', 'revision', 'summary', 'correction_note', 'digest',
                'published_at', 'published_by_id', 'created_at', 'content')]):
            pass


def downgrade():
    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_comments_consultation_status'), ['consultation_id', 'status'], unique=False)
        batch_op.drop_index('ix_comments_public_order')

    op.drop_table('comment_counts')
