"""The rules a request passes before anything is spent: `intake` (every check, in one order, for
every way of asking), per-server rules (`guild_settings`), quotas and cooldown (`quota`), and
prompts and images (`validation`).
"""
