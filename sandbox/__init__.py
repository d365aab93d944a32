"""The loopback world the bot can run in without Discord or a paid relay.

`discord_server` is a Discord-compatible server (REST and gateway) and `relay` a simulator of the
video relay; the test suite drives both, and `python -m bot --sandbox` runs the real bot against
them behind a web page.
"""
