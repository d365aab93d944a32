from urllib.parse import parse_qs, urlsplit

import discord
import pytest

from bot.ops import invite


def test_permissions_are_the_ones_the_bot_needs_by_name():
    expected = discord.Permissions(
        view_channel=True,
        send_messages=True,
        send_messages_in_threads=True,
        embed_links=True,
        attach_files=True,
        read_message_history=True,
    )
    assert expected.value == invite.PERMISSIONS


def test_bot_invite_matches_discord_py():
    ours = invite.bot_invite_url(1234567890)
    theirs = discord.utils.oauth_url(
        1234567890,
        permissions=discord.Permissions(invite.PERMISSIONS),
        scopes=("bot", "applications.commands"),
    )
    assert ours == theirs


def test_user_install_link():
    url = urlsplit(invite.user_install_url(42))
    assert (url.scheme, url.netloc, url.path) == ("https", "discord.com", "/oauth2/authorize")
    assert parse_qs(url.query) == {
        "client_id": ["42"],
        "integration_type": ["1"],
        "scope": ["applications.commands"],
    }


def test_the_application_id_is_read_from_a_bot_token():
    # A bot token's first part is its user id (the application's id) in base64, unpadded.
    assert invite.application_id_from_token("MTIzNDU2Nzg5MDEyMzQ1Njc4.GhIjKl.abcdefghijklmnopqrstuvwxyz") == (
        123456789012345678
    )


@pytest.mark.parametrize("token", ["sandbox.abc", "not-the-token", "", "aGVsbG8.x.y", "////.x.y"])
def test_a_token_without_an_application_id_gives_none(token):
    assert invite.application_id_from_token(token) is None
