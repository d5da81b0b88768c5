"""`make bench-mattermost`: `/whoknows` timed through a real Mattermost server's command endpoint.

The seeded bench workspace goes into Mattermost with the server's own bulk import, the bot reads it back
(its backfill) into its data folder, then N commands are timed through `POST /api/v4/commands/execute`
as several people, beside the same topics timed in-process on the bot's store. Not a test: nothing here
is collected by pytest.
"""
