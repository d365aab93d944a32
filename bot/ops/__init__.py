"""Operating the bot: `--check`, the heartbeat and Docker health check, Prometheus metrics, invite
links, the usage report and the audit-log lines.
"""
