"""The database schema, as sqlite-utils migrations applied in order at every start.

Add a new `@migrations()` function below the last one to change the schema; never edit one
that has shipped, because databases in the field have already applied it.
"""

from __future__ import annotations

import sqlite_utils
from sqlite_utils.migrations import Migrations

migrations = Migrations("veo_bot")


@migrations()
def m001_jobs(db: sqlite_utils.Database) -> None:
    db.table("jobs").create(
        {
            "id": int,
            "state": str,
            "created_at": float,
            "updated_at": float,
            "guild_id": int,
            "channel_id": int,
            "message_id": int,
            "interaction_id": int,
            "interaction_token": str,
            "token_issued_at": float,
            "application_id": int,
            "user_id": int,
            "user_name": str,
            "prompt": str,
            "model": str,
            "images": str,
            "image_names": str,
            "orientation": str,
            "size": str,
            "duration": int,
            "aspect_ratio": str,
            "enable_upsample": int,
            "parent_id": int,
            "kind": str,
            "task_id": str,
            "raw_status": str,
            "progress": int,
            "video_url": str,
            "thumbnail_url": str,
            "enhanced_prompt": str,
            "failure_reason": str,
            "failure_kind": str,
            "submitted_at": float,
            "queued_at": float,
            "running_at": float,
            "succeeded_at": float,
            "delivered_at": float,
            "failed_at": float,
            "cancelled_at": float,
            "cancelled_by": int,
            "poll_failures": int,
            "last_poll_at": float,
            "last_poll_ok_at": float,
            "next_poll_at": float,
            "delivery_mode": str,
            "result_message_id": int,
            "notified_at": float,
        },
        pk="id",
        not_null={"state", "created_at", "updated_at", "channel_id", "user_id", "prompt", "model"},
        defaults={"poll_failures": 0, "kind": "new", "enable_upsample": 0},
    )
    db.table("jobs").create_index(["state"])
    db.table("jobs").create_index(["user_id", "created_at"])
    db.table("jobs").create_index(["guild_id", "created_at"])
    db.table("jobs").create_index(["task_id"], unique=True)
    db.table("job_events").create(
        {"id": int, "job_id": int, "at": float, "state_from": str, "state_to": str, "detail": str},
        pk="id",
        foreign_keys=[("job_id", "jobs", "id")],
    )
    db.table("job_events").create_index(["job_id"])
    db.table("meta").create({"key": str, "value": str}, pk="key")


@migrations()
def m002_guild_settings(db: sqlite_utils.Database) -> None:
    db.table("guild_settings").create(
        {"guild_id": int, "data": str, "updated_at": float, "updated_by": int}, pk="guild_id"
    )


@migrations()
def m003_approval(db: sqlite_utils.Database) -> None:
    for column, type_ in (
        ("approval_channel_id", int),
        ("approval_message_id", int),
        ("decided_by", int),
        ("decided_at", float),
    ):
        db.table("jobs").add_column(column, type_)


@migrations()
def m004_origin(db: sqlite_utils.Database) -> None:
    # "kind" also named failure types and MIME types in the code; a job's lineage is its origin.
    db.execute("alter table jobs rename column kind to origin")
