"""Pacing what the bot sends to Discord: rate-limit budgets per bucket (`budgets`) and the
per-message throttle that lets only the newest progress edit through (`throttle`).
"""
