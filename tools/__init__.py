"""Developer tools that need the whole bot (bot/ and cogs/), so they live outside both."""
