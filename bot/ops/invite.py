"""Invite links, built without discord.py so `python -m bot --check` can print them too."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import urlencode

AUTHORIZE = "https://discord.com/oauth2/authorize"

# What the bot needs in a channel: see its messages' channel, post and edit the job message,
# embed the result and upload the video. Bit positions from Discord's permission list.
PERMISSION_BITS = {
    "view_channel": 10,
    "send_messages": 11,
    "embed_links": 14,
    "attach_files": 15,
    "read_message_history": 16,
    "send_messages_in_threads": 38,
}
PERMISSIONS = sum(1 << bit for bit in PERMISSION_BITS.values())


def bot_invite_url(application_id: int) -> str:
    """Adds the bot to a server, with its slash commands and the permissions above."""
    query = {"client_id": application_id, "scope": "bot applications.commands", "permissions": PERMISSIONS}
    return f"{AUTHORIZE}?{urlencode(query)}"


def user_install_url(application_id: int) -> str:
    """Installs the app on a member's own account (its commands, no bot in the server)."""
    query = {"client_id": application_id, "integration_type": 1, "scope": "applications.commands"}
    return f"{AUTHORIZE}?{urlencode(query)}"


def application_id_from_token(token: str) -> int | None:
    """The application id a bot token carries, or None when it carries none (a sandbox token, a
    typo). A bot token's first dot-separated part is its bot user's id in base64, and a bot's
    user id is its application's id: the links can be made when Discord cannot be asked."""
    head = token.split(".", 1)[0]
    try:
        text = base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError):
        return None
    # A snowflake: 17 digits or more (2015 onwards), at most 20 (it fits 64 bits).
    return int(text) if text.isascii() and text.isdigit() and 17 <= len(text) <= 20 else None
