"""Grading options and feedback visibility per assignment, and the regrades kept: an assignment's
grading options (tolerance, carried credit, weights; none: the grader's defaults), when a student
sees the per-cell feedback and the score (a due date, a release flag), and a table of regrades
(each changed submission's score before and after). Existing assignments keep today's behaviour:
feedback at once, scores shown, the grader's default options.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # plain ADD COLUMNs (a server default fills the rows there are): no table is made anew, so
    # the students' foreign keys are never left without their assignment
    op.add_column("assignment", sa.Column("grading_json", sa.Text(), nullable=True))
    op.add_column(
        "assignment",
        sa.Column("feedback", sa.String(length=20), server_default="immediate", nullable=False),
    )
    op.add_column(
        "assignment",
        sa.Column("score_visibility", sa.String(length=30), server_default="shown", nullable=False),
    )
    op.add_column("assignment", sa.Column("due_at", sa.DateTime(), nullable=True))
    op.add_column(
        "assignment",
        sa.Column("released", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.create_table(
        "regrade",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("summary_json", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["assignment_id"], ["assignment.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_regrade_assignment_id", "regrade", ["assignment_id"], unique=False)


def downgrade() -> None:
    """The regrades' records and the settings go; the submissions keep their current scores."""
    op.drop_index("ix_regrade_assignment_id", table_name="regrade")
    op.drop_table("regrade")
    # ALTER TABLE … DROP COLUMN (SQLite 3.35 on): no table made anew, the foreign keys whole
    for column in ("released", "due_at", "score_visibility", "feedback", "grading_json"):
        op.drop_column("assignment", column)
