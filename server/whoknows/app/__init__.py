"""Use cases: commands, buttons, suggestions, learning threads, digests, permissions. Handed app.ports.Services."""
