"""Vectors per model: an article keeps one vector per embedding model (MiniLM for English, the multilingual
encoder for stories across languages), keyed by (article, model) instead of article alone.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("vectors", recreate="always") as batch:
        batch.drop_constraint("pk_vectors", type_="primary")
        batch.create_primary_key("pk_vectors", ["article_id", "model"])


def downgrade() -> None:
    # One vector per article again: the rows of models other than the first (by name) are dropped.
    op.execute(
        "DELETE FROM vectors WHERE model != (SELECT MIN(v.model) FROM vectors v "
        "WHERE v.article_id = vectors.article_id)"
    )
    with op.batch_alter_table("vectors", recreate="always") as batch:
        batch.drop_constraint("pk_vectors", type_="primary")
        batch.create_primary_key("pk_vectors", ["article_id"])
