"""Every sentence whoknows says to a person outside the card templates, in one place for review."""

from __future__ import annotations

from pathlib import Path


def import_done(lines: int, posts: int, reactions: int, indexed: int, seconds: float) -> str:
    return (
        f"Imported {lines:,} lines: {posts:,} new posts and {reactions:,} reaction changes in {seconds:.1f} s; "
        f"the index now holds {indexed:,} posts."
    )


def demo_written(path: Path, posts: int, people: int) -> str:
    return f"Wrote a demo workspace of {posts:,} posts by {people} people to {path}."


def no_data(data: Path) -> str:
    return f"there is no whoknows data in {data}; run `whoknows --data {data} import FILE` first"


def no_index(data: Path) -> str:
    return f"the index in {data} is missing; run `whoknows --data {data} import FILE` (or `whoknows rebuild`)"


def rebuilt(data: Path, posts: int) -> str:
    return f"Rebuilt the index in {data}: {posts:,} posts."


def forgotten(username: str, posts: int) -> str:
    return f"Forgot {username}: {posts:,} posts left the index; they will not appear or be indexed again."


def index_busy(data: Path) -> str:
    return f"the index in {data} is in use (is `whoknows run` running?); stop the bot first"


def unknown_user(name: str) -> str:
    return f"nobody called {name!r} is known here"


# -- the bot: start-up ----------------------------------------------------------------------------


def missing_setting(name: str) -> str:
    return f"the setting {name} is missing; set it in the environment (see plugin.json for every setting)"


def bad_setting(name: str, source: str, wanted: str) -> str:
    return f"the setting {name} (from {source}) must be {wanted}"


def index_unavailable(why: str) -> str:
    return f"{why}; check OpenSearchUrl, OpenSearchUser and OpenSearchPassword (nothing was wiped)"


def bad_store_url() -> str:
    return ("the setting StoreUrl (WHOKNOWS_STORE_URL) must be empty (SQLite in the data folder) or a "
            "postgresql://user:password@host:port/database URL")


def store_unavailable(where: str, why: str) -> str:
    return f"cannot use the PostgreSQL store {where}: {why}; check the setting StoreUrl (WHOKNOWS_STORE_URL)"


def stream_deaf(channels: list[str]) -> str:
    shown = ", ".join(f"~{c}" for c in channels[:5]) + (f" and {len(channels) - 5} more" if len(channels) > 5 else "")
    return f"the websocket did not bring new posts in {shown}; opening a new connection and catching up over REST"


def standing_by(where: str) -> str:
    return (f"another whoknows process applies events from the store {where}; this one stands by and takes over within "
            "seconds when that one stops")


def following(where: str) -> str:
    return (f"another whoknows process applies events from the store {where}; this one answers requests from it, hands "
            "its own events to that one, and takes over within seconds when that one stops")


def took_lead(where: str) -> str:
    return f"this process now applies events from the store {where} (the one that did has stopped)"


def lost_lead(where: str) -> str:
    return (f"lost the connection to the store {where} that made this process the one applying events; stopping, as another "
            "process may take over meanwhile (started again, it stands by until it can lead)")


def eval_store_not_empty(where: str) -> str:
    return f"the evaluation replays a corpus into an empty store, and {where} already holds posts; point WHOKNOWS_STORE_URL at an empty one"


def bad_manifest(path: Path, error: Exception) -> str:
    return f"cannot read the settings manifest {path}: {type(error).__name__}"


def cannot_reach(url: str, status: str) -> str:
    return f"cannot use Mattermost at {url} with WHOKNOWS_BOT_TOKEN ({status}); check the URL and the bot's token"


def disk_full(folder: Path, reason: str) -> str:
    return (
        f"cannot write the index in {folder}: the disk is full ({reason}). /whoknows answers from the index as it was; "
        "new posts are kept and become searchable by themselves once space is freed"
    )


def disk_space_back(folder: Path) -> str:
    return f"the index in {folder} is writable again (disk space is back); the posts that waited are searchable now"


def index_server_away(reason: str) -> str:
    return (f"{reason}: /whoknows cannot answer until it is back; new posts are kept in the store and become searchable "
            "by themselves then")


def index_server_back() -> str:
    return "the index's server answers again; the posts that waited are searchable now"


def index_away_for_people() -> str:
    return "whoknows cannot reach its search index right now (the server that holds it is away); try again in a few minutes"


def cannot_register_command(team: str, status: str) -> str:
    return (
        f"cannot register the slash command on team {team} ({status}); give the bot the permission "
        "to manage slash commands (for example make it a team admin)"
    )


def command_unreachable(trigger: str, url: str) -> str:
    return (
        f"Mattermost cannot call /{trigger} at {url}: people will see \"Command with a trigger of '{trigger}' failed\". "
        "Add this host to System Console > Environment > Developer > Allow untrusted internal connections "
        "(ServiceSettings.AllowedUntrustedInternalConnections), or set WHOKNOWS_CALLBACK_URL to an address the server reaches"
    )


def port_taken(host: str, port: int, command_note: str) -> str:
    return (f"cannot listen on {host}:{port}: another program holds that port; stop it, or set WHOKNOWS_HTTP_PORT (HttpPort) "
            f"to a free port{command_note}")


def cannot_listen(host: str, port: int, reason: str) -> str:
    return f"cannot listen on {host}:{port} ({reason}); check WHOKNOWS_HTTP_HOST (HttpHost) and WHOKNOWS_HTTP_PORT (HttpPort)"


def command_withdrawn(trigger: str, teams: int) -> str:
    """What a busy port did to the slash command registered by an earlier run (the end of port_taken's line)."""
    if not teams:
        return ""
    return f"; /{trigger} called that port, so it is unregistered on {teams} team(s) until whoknows starts again"


def command_left_to_other(trigger: str) -> str:
    return f"; another whoknows answers there, so /{trigger} is left calling it"


def command_maybe_stale(trigger: str, status: str) -> str:
    return f"; /{trigger} may still call that port (Mattermost could not be asked: {status})"


def stopping(signal_name: str) -> str:
    return f"whoknows is stopping ({signal_name})"


# -- the bot: replies to people (ephemeral) ------------------------------------------------------

# The help text's lines are made from the sub-command table (app.commands): one per row.
HELP_TITLE = "#### whoknows: who knows about X?"
HELP_FOOTER = "Only posts from channels you can read are ever shown to you."
COMMAND_DESCRIPTION = "Who knows about X? From the conversation your team already has."
COMMAND_AUTOCOMPLETE = "Find the people who know about a topic"


def empty_topic(trigger: str) -> str:
    return f"Tell me what to look for, for example `/{trigger} kubernetes ingress` or `/{trigger} @alice`. Try `/{trigger} help`."


def nothing_to_search(topic: str, trigger: str) -> str:
    return f"I could not find anything to search for in \u201c{topic}\u201d. Try a few telling words, like a tool, a system or an error message (`/{trigger} help`)."


def unknown_person(name: str) -> str:
    return f"I don't know anyone called {name!r} yet. Check the spelling of the username."


def person_opted_out(name: str) -> str:
    return f"{name} has chosen not to appear in whoknows."


def you_are_opted_out(trigger: str, by_default: bool) -> str:
    why = "Everyone here starts opted out, and you have not opted in" if by_default else "You opted out"
    return (f"**You are opted out.** {why}: you appear in no card, suggestion or digest, and others are told you chose "
            f"not to appear. `/{trigger} optin` brings you back.")


def person_instead(topic: str, username: str, trigger: str) -> str:
    return f"No post matches \u201c{topic}\u201d, but {username} is someone here (`/{trigger} @{username}` shows this directly):"


def also_a_person(username: str, trigger: str) -> str:
    return f"{username} is also someone here: `/{trigger} @{username}` shows what they are known for."


def text_shortened(kept: int) -> str:
    return f"_Your text was long, so I read its first {kept:,} characters, up to the last whole word._"


def opted_out() -> str:
    return "Done: you no longer appear in any whoknows card or suggestion. `/whoknows optin` brings you back."


def opted_in() -> str:
    return "Done: you can appear in whoknows cards and suggestions again. `/whoknows optout` takes you out."


def unknown_subcommand(word: str, trigger: str) -> str:
    return f"`{word}` needs `on` or `off`, for example `/{trigger} channel off`."


def channel_suggestions(on: bool) -> str:
    return "Inline suggestions are now on in this channel." if on else "Inline suggestions are now off in this channel."


def not_channel_admin() -> str:
    return "Only a channel admin can turn suggestions on or off here."


def starting() -> str:
    """While start-up has not finished: the same line as the Go plugin's when the service is not up yet."""
    return "whoknows is starting, try again in a moment."


def internal_error(error_id: str) -> str:
    return f"Sorry, something went wrong on my side. If it happens again, tell your admin the error id {error_id}."


def command_refused() -> str:
    return "This command could not be verified as yours: run it again from a channel of your team."


def action_refused() -> str:
    return "This button is no longer valid. Run the command again for a fresh card."


def not_helpful_noted() -> str:
    return "Thanks, noted: these people will rank lower for this topic."


def no_more_people() -> str:
    return "That's everyone I found for this topic."


def asked_in_channel(asker: str, question: str, people: list[str]) -> str:
    """The post the bot makes for "Ask them in this channel": here the mentions are intended."""
    mentions = ", ".join(f"@{p}" for p in people)
    return f"{mentions}: @{asker} is asking: {question}"


def suggestion_intro() -> str:
    return "These people may know (suggested by whoknows):"


def asked_done() -> str:
    return "Done: I asked them in this channel."


# -- learning threads and digests (issue 5) -------------------------------------------------------

LEARNING_TITLE = "What we learned"
DIGEST_CHART_TITLE = "Topics that came up, and who answered"


def learning_created(link: str, emoji: str) -> str:
    return f"Done: this channel's learning thread is pinned ({link}). React with :{emoji}: to any post here to add it."


def learning_exists(link: str) -> str:
    return f"This channel already has a learning thread: {link}"


def learning_retitled(link: str) -> str:
    return f"Done: the learning thread is renamed ({link})."


def learning_retired() -> str:
    return "Done: the learning thread is unpinned and retired. `/whoknows learn` starts a new one."


def learning_none() -> str:
    return "This channel has no learning thread. `/whoknows learn` starts one."


def learning_not_admin(link: str) -> str:
    return f"Only a channel admin can rename or retire the learning thread. It is here: {link}"


def learning_not_here() -> str:
    return "I keep learning threads only in the channels I read: add me to this channel (public or private, not a direct message) and try again."


def learning_no_thread(emoji: str, trigger: str) -> str:
    return (f"This channel has no learning thread, so :{emoji}: did not collect this post. `/{trigger} learn` starts one "
            "(pinned, for the whole channel). I say this only once.")


def digest_too_soon(minutes: int, link: str) -> str:
    return (f"A digest was asked for here a short while ago: the next one can be posted in {minutes} "
            f"{'minute' if minutes == 1 else 'minutes'} (channel admins can post one at any time). The last one is in the "
            f"learning thread: {link}")


def digest_posted(link: str) -> str:
    return f"Done: the digest is in the learning thread ({link})."


def digest_nothing(days: int) -> str:
    return f"Nothing to sum up: nobody posted in this channel in the last {days} {'day' if days == 1 else 'days'}."


def digest_period(start: str, end: str) -> str:
    return f"{start} to {end}"


def engine_too_slow(posts: int, enough: int, *, plugin: bool) -> str:
    where = "System Console → Plugins → whoknows → Search engine" if plugin else "WHOKNOWS_INDEX_ENGINE=tantivy"
    return (f"This workspace has {posts:,} posts: the Whoosh index answers slowly past about {enough:,}. "
            f"Switch to tantivy ({where}); whoknows then reads the history again once.")


def for_admins(text: str) -> str:
    return f"**For admins:** {text}"
