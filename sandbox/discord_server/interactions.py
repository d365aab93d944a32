"""Interactions a test or the sandbox injects: slash commands (options resolved as Discord
resolves them), autocomplete, buttons, modals and context menus, each sent as INTERACTION_CREATE."""

from __future__ import annotations

import secrets
from typing import Any

from sandbox.discord_server.gateway import GatewayMixin
from sandbox.discord_server.model import (
    BOT_PERMISSIONS,
    TIER_LIMITS,
    DiscordError,
    FakeInteraction,
    FakeMessage,
    FakeUser,
    snowflake,
)


class InteractionsMixin(GatewayMixin):
    async def slash(
        self,
        name: str,
        options: dict[str, Any] | None = None,
        *,
        user: FakeUser,
        channel_id: int,
        subcommand: str | None = None,
        attachments: dict[str, tuple[Any, ...]] | None = None,
        locale: tuple[str, str] | None = None,
    ) -> FakeInteraction:
        command = self.command(name)
        spec = command.get("options", [])
        if subcommand:
            sub = next(o for o in spec if o["name"] == subcommand)
            spec = sub.get("options", [])
        types = {o["name"]: o["type"] for o in spec}
        opts: list[dict[str, Any]] = []
        resolved: dict[str, Any] = {}
        for index, (key, value) in enumerate((options or {}).items()):
            kind = types.get(key, 6 if isinstance(value, FakeUser) else 3)
            if kind in (6, 7, 8):  # a user, channel or role: Discord resolves the snowflake
                where = f"options.0.options.{index}.value" if subcommand else f"options.{index}.value"
                value = self._resolve(kind, value, channel_id, resolved, where)
            opts.append({"name": key, "type": kind, "value": value})
        for key, spec_tuple in (attachments or {}).items():
            filename, blob, content_type = spec_tuple[:3]
            size = spec_tuple[3] if len(spec_tuple) > 3 else len(blob)
            att = self._store_attachment(channel_id, filename, blob, content_type, size)
            resolved.setdefault("attachments", {})[str(att.id)] = self.attachment_json(att)
            opts.append({"name": key, "type": 11, "value": str(att.id)})
        if subcommand:
            opts = [{"name": subcommand, "type": 1, "options": opts}]
        data: dict[str, Any] = {"id": command["id"], "name": name, "type": 1, "options": opts}
        if resolved:
            data["resolved"] = resolved
        if command.get("guild_id"):
            data["guild_id"] = command["guild_id"]
        return await self._dispatch_interaction(2, data, user, channel_id, locale=locale)

    def _resolve(self, kind: int, value: Any, channel_id: int, resolved: dict[str, Any], where: str) -> str:
        """A user/channel/role option's snowflake, its object put into `resolved`. Anything else
        (a name, "@mods", an id from another server) is refused as Discord refuses it: 400, 50035."""
        raw = str(value.id if isinstance(value, FakeUser) else value)
        guild = self.guilds.get(self.channel_guild.get(channel_id, 0))
        found = raw.isdigit()
        if found and kind == 6:  # any user Discord knows; a member's details too in their server
            known = {u.id: u for g in self.guilds.values() for u in g.members.values()}
            user = value if isinstance(value, FakeUser) else known.get(int(raw))
            found = user is not None
            if user is not None:
                resolved.setdefault("users", {})[raw] = user.json()
            if user is not None and guild is not None and user.id in guild.members:
                member = user.member_json(guild.id)
                member.pop("user")
                resolved.setdefault("members", {})[raw] = member
        elif found and kind == 7:
            found = int(raw) in (guild.channels if guild else self.channel_guild)
            if found:
                resolved.setdefault("channels", {})[raw] = self._channel_json(int(raw))
        elif found and kind == 8:  # roles exist only in a server
            found = guild is not None and (int(raw) in guild.roles or int(raw) == guild.id)
            if found:
                resolved.setdefault("roles", {})[raw] = self._role_json(int(raw), channel_id)
        if not found:
            what = {6: "user", 7: "channel", 8: "role"}[kind]
            error = {"code": "INTERACTION_APPLICATION_COMMAND_OPTION_INVALID", "message": f"Unknown {what}"}
            raise DiscordError(400, 50035, "Invalid Form Body", errors=_nested(where, error))
        return raw

    async def autocomplete(
        self, name: str, option: str, typed: str, *, user: FakeUser, channel_id: int
    ) -> list[dict[str, Any]]:
        """The choices the bot suggests for `option` of command `name` while `typed` is typed."""
        command = self.command(name)
        kind = {o["name"]: o["type"] for o in command.get("options", [])}.get(option, 3)
        focused = {"name": option, "type": kind, "value": typed, "focused": True}
        data = {"id": command["id"], "name": name, "type": 1, "options": [focused]}
        if command.get("guild_id"):
            data["guild_id"] = command["guild_id"]
        interaction = await self._dispatch_interaction(4, data, user, channel_id)
        response = await interaction.wait_response()
        choices: list[dict[str, Any]] = response.get("data", {}).get("choices", [])
        return choices

    async def click(
        self, message: FakeMessage, custom_id: str, *, user: FakeUser, locale: tuple[str, str] | None = None
    ) -> FakeInteraction:
        data = {"custom_id": custom_id, "component_type": 2}
        return await self._dispatch_interaction(
            3, data, user, message.channel_id, message=message, locale=locale
        )

    async def submit_modal(
        self,
        custom_id: str,
        values: dict[str, str],
        *,
        user: FakeUser,
        channel_id: int,
        message: FakeMessage | None = None,
        locale: tuple[str, str] | None = None,
    ) -> FakeInteraction:
        rows = [
            {"type": 1, "components": [{"type": 4, "custom_id": k, "value": v}]} for k, v in values.items()
        ]
        data = {"custom_id": custom_id, "components": rows}
        return await self._dispatch_interaction(5, data, user, channel_id, message=message, locale=locale)

    async def context_menu(self, name: str, message: FakeMessage, *, user: FakeUser) -> FakeInteraction:
        command = self.command(name)
        data = {
            "id": command["id"],
            "name": name,
            "type": 3,
            "target_id": str(message.id),
            "resolved": {"messages": {str(message.id): message.json(self)}},
        }
        return await self._dispatch_interaction(2, data, user, message.channel_id)

    async def _dispatch_interaction(
        self,
        kind: int,
        data: dict[str, Any],
        user: FakeUser,
        channel_id: int,
        *,
        message: FakeMessage | None = None,
        locale: tuple[str, str] | None = None,
    ) -> FakeInteraction:
        """`locale`: (the member's, the server's) Discord locales; en-US for both by default."""
        member_locale, guild_locale = locale or ("en-US", "en-US")
        guild_id = self.channel_guild.get(channel_id)
        guild = self.guilds[guild_id] if guild_id else None
        token = "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(48)
        interaction = FakeInteraction(snowflake(), token, kind, channel_id, guild_id, user, {})
        payload: dict[str, Any] = {
            "id": str(interaction.id),
            "application_id": str(self.application_id),
            "type": kind,
            "data": data,
            "token": token,
            "version": 1,
            "channel_id": str(channel_id),
            "channel": (
                {
                    "id": str(channel_id),
                    "type": 0,
                    "name": self.channel_name(channel_id),
                    "position": 0,
                    "permission_overwrites": [],
                    "nsfw": False,
                    "parent_id": None,
                    "guild_id": str(guild_id),
                }
                if guild_id
                # The bot's DM (type 1) or a group DM (type 3), as Discord describes them.
                else {
                    "id": str(channel_id),
                    "type": 1 if channel_id in self.dm_channels.values() else 3,
                    "recipients": [user.json()],
                    "last_message_id": None,
                    "flags": 0,
                }
            ),
            "app_permissions": str(self.bot_permissions.get(channel_id, BOT_PERMISSIONS)),
            "locale": member_locale,
            "entitlements": [],
            "attachment_size_limit": guild.filesize_limit if guild else TIER_LIMITS[0],
            # 0 a server, 1 the bot's DM, 2 a group DM or a DM between users.
            "context": 0 if guild_id else (1 if channel_id in self.dm_channels.values() else 2),
            # Who installed the app here: the server (key "0") only where the bot is a member.
            "authorizing_integration_owners": (
                {"0": str(guild_id), "1": str(user.id)} if guild and guild.bot_member else {"1": str(user.id)}
            ),
        }
        if guild_id:
            payload["guild_id"] = str(guild_id)
            payload["guild_locale"] = guild_locale
            payload["guild"] = {"id": str(guild_id), "locale": guild_locale, "features": []}
            payload["member"] = user.member_json(guild_id)
        else:
            payload["user"] = user.json()
        if message is not None:
            payload["message"] = message.json(self)
        interaction.payload = payload
        self.interactions[token] = interaction
        # A server's interactions reach the shard of that server's id, the bot's member or not
        # (a user install); DMs and group DMs reach shard 0.
        await self.dispatch("INTERACTION_CREATE", payload, guild_id=guild_id)
        return interaction

    def _channel_json(self, channel_id: int) -> dict[str, Any]:
        """A channel as interaction `resolved` data carries it (with the member's permissions)."""
        guild_id = self.channel_guild.get(channel_id)
        guild = self.guilds.get(guild_id or 0)
        return {
            "id": str(channel_id),
            "type": 0,
            "name": guild.channel_name(channel_id, "channel") if guild else "channel",
            "permissions": str(BOT_PERMISSIONS),
            "guild_id": str(guild_id) if guild_id else None,
            "parent_id": None,
        }

    def _role_json(self, role_id: int, channel_id: int) -> dict[str, Any]:
        guild = self.guilds.get(self.channel_guild.get(channel_id, 0))
        name = guild.roles.get(role_id, "role") if guild else "role"
        return {
            "id": str(role_id),
            "name": name,
            "permissions": "0",
            "position": 1,
            "color": 0,
            "hoist": False,
            "managed": False,
            "mentionable": False,
            "flags": 0,
        }


def _nested(path: str, error: dict[str, str]) -> dict[str, Any]:
    """Discord's error tree for a field: "options.0.value" -> {"options": {"0": {"value": ...}}}."""
    tree: dict[str, Any] = {"_errors": [error]}
    for part in reversed(["data", *path.split(".")]):
        tree = {part: tree}
    return tree
