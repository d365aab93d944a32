"""The Discord application: the bot client, acknowledging commands first in a burst, the one
error path that answers a member, and the commands' translations. The only part of `bot/` that
imports discord.py (with `cogs/`, which translate between Discord and the rest).
"""
