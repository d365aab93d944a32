"""The rules a request passes before anything is spent: `intake` (every check, in one order, for
every way of asking), per-server rules (`guild_settings`), quotas and cooldown (`quota`), prices and
monthly budgets (`budget`), and prompts and images (`validation`).
"""
