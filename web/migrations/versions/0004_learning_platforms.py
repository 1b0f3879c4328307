"""Learning platforms (LTI 1.3): the registered platforms, their courses and resource links
(each opening an assignment, with the line item its scores go to), the students' platform
identities, the score sends (queued, retried, never lost) and the data the OIDC login hands to the
launch; and per assignment which attempt's score the platform gets (best, as before, or last).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "lti_launch_data",
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("value_json", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index(
        op.f("ix_lti_launch_data_expires_at"), "lti_launch_data", ["expires_at"], unique=False
    )
    op.create_table(
        "lti_platform",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("issuer", sa.String(length=255), nullable=False),
        sa.Column("client_id", sa.String(length=255), nullable=False),
        sa.Column("auth_login_url", sa.Text(), nullable=False),
        sa.Column("auth_token_url", sa.Text(), nullable=False),
        sa.Column("key_set_url", sa.Text(), nullable=False),
        sa.Column("deployments_json", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("issuer", "client_id"),
    )
    op.create_table(
        "lti_context",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("context_id", sa.String(length=255), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("memberships_url", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["course.id"],
        ),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["lti_platform.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("platform_id", "context_id"),
    )
    op.create_index(op.f("ix_lti_context_course_id"), "lti_context", ["course_id"], unique=False)
    op.create_table(
        "lti_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("resource_link_id", sa.String(length=255), nullable=False),
        sa.Column("context_id", sa.Integer(), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("lineitems_url", sa.Text(), nullable=True),
        sa.Column("lineitem_url", sa.Text(), nullable=True),
        sa.Column("creating_since", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["assignment.id"],
        ),
        sa.ForeignKeyConstraint(
            ["context_id"],
            ["lti_context.id"],
        ),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["lti_platform.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("platform_id", "resource_link_id"),
    )
    op.create_index(op.f("ix_lti_link_assignment_id"), "lti_link", ["assignment_id"], unique=False)
    op.create_index(op.f("ix_lti_link_context_id"), "lti_link", ["context_id"], unique=False)
    op.create_table(
        "lti_score_send",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Double(), nullable=False),
        sa.Column("max_score", sa.Double(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("next_try_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_until", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["link_id"],
            ["lti_link.id"],
        ),
        sa.ForeignKeyConstraint(
            ["student_id"],
            ["student.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("link_id", "student_id"),
    )
    op.create_index(op.f("ix_lti_score_send_status"), "lti_score_send", ["status"], unique=False)
    op.create_index(
        op.f("ix_lti_score_send_student_id"), "lti_score_send", ["student_id"], unique=False
    )
    op.create_table(
        "lti_user",
        sa.Column("student_id", sa.Integer(), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("sub", sa.String(length=255), nullable=False),
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["assignment.id"],
        ),
        sa.ForeignKeyConstraint(
            ["link_id"],
            ["lti_link.id"],
        ),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["lti_platform.id"],
        ),
        sa.ForeignKeyConstraint(
            ["student_id"],
            ["student.id"],
        ),
        sa.PrimaryKeyConstraint("student_id"),
        sa.UniqueConstraint("platform_id", "assignment_id", "sub"),
    )
    op.create_index(op.f("ix_lti_user_assignment_id"), "lti_user", ["assignment_id"], unique=False)
    op.create_index(op.f("ix_lti_user_link_id"), "lti_user", ["link_id"], unique=False)
    op.add_column(
        "assignment",
        sa.Column("score_policy", sa.String(length=10), server_default="best", nullable=False),
    )


def downgrade() -> None:
    """The platforms' tables go; the assignments, students and submissions stay."""
    op.drop_column("assignment", "score_policy")
    op.drop_index(op.f("ix_lti_user_link_id"), table_name="lti_user")
    op.drop_index(op.f("ix_lti_user_assignment_id"), table_name="lti_user")
    op.drop_table("lti_user")
    op.drop_index(op.f("ix_lti_score_send_student_id"), table_name="lti_score_send")
    op.drop_index(op.f("ix_lti_score_send_status"), table_name="lti_score_send")
    op.drop_table("lti_score_send")
    op.drop_index(op.f("ix_lti_link_context_id"), table_name="lti_link")
    op.drop_index(op.f("ix_lti_link_assignment_id"), table_name="lti_link")
    op.drop_table("lti_link")
    op.drop_index(op.f("ix_lti_context_course_id"), table_name="lti_context")
    op.drop_table("lti_context")
    op.drop_table("lti_platform")
    op.drop_index(op.f("ix_lti_launch_data_expires_at"), table_name="lti_launch_data")
    op.drop_table("lti_launch_data")
