"""What the generated team talks about and how it phrases it: specs, names and chat templates.

Everything here is our own writing. Templates name their slots in braces (`{task}`, `{Fix}`
is the capitalised `{fix}`); the generator fills a slot only when a template asks for it, so
adding a template never slows the others down.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Fact:
    """One coherent story: what someone wants to do, what goes wrong, why, and the fix.

    Threads draw one fact, so the question, the expert's answer and the asker's thanks agree.
    """

    task: str
    symptom: str
    cause: str
    fix: str


@dataclass(frozen=True)
class TopicSpec:
    """One thing people ask about. `terms` are ordered most-used first (Zipf weights follow the order)."""

    phrase: str
    terms: tuple[str, ...]
    facts: tuple[Fact, ...]
    snippets: tuple[str, ...]
    tags: tuple[str, ...]
    queries: tuple[str, ...] = ()
    """Held-out questions for the benchmark; never written into the corpus."""


@dataclass(frozen=True)
class AreaSpec:
    """A speciality with its own channel; its people are the experts of its topics."""

    key: str
    channel: str
    display: str
    purpose: str
    header: str
    roles: tuple[str, ...]
    ticket: str
    oncall: bool
    services: tuple[str, ...]
    bot_lines: tuple[str, ...]
    topics: tuple[TopicSpec, ...]


@dataclass(frozen=True)
class AspectSpec:
    """A kind of problem any internal service has; `{svc}` and `{comp}` make it service-specific."""

    phrase: str
    tag: str
    terms: tuple[str, ...]
    facts: tuple[Fact, ...]
    snippets: tuple[str, ...]


FIRST_NAMES = (
    "alice", "bruno", "chen", "dara", "elif", "farah", "goran", "hana", "ivan", "jonas", "kemi", "lena",
    "marco", "nadia", "omar", "priya", "quinn", "rosa", "sven", "tariq", "uma", "victor", "wen", "yara",
    "zoe", "amara", "ben", "carla", "diego", "emeka", "freya", "gita", "hugo", "ines", "jun", "kai",
    "luca", "maya", "nils", "olga", "pablo", "rui", "sara", "theo", "vera", "will", "xin", "yusuf",
    "aiko", "bea", "cyrus", "dmitri", "esme", "felix", "greta", "hiro", "isla", "joao", "kofi", "leila",
    "mateo", "nora", "oscar", "paula", "ravi", "sofia", "tomas", "ulla", "vikram", "wanda", "yuki", "zain",
    "anya", "bilal", "clara", "dev", "eva", "femi", "gabe", "helga",
)
LAST_NAMES = (
    "ng", "costa", "nguyen", "okafor", "silva", "kowalski", "haddad", "tanaka", "muller", "rossi", "patel",
    "kim", "novak", "santos", "berg", "dubois", "fischer", "garcia", "hansen", "ivanova", "jensen", "khan",
    "larsen", "mendes", "nakamura", "osei", "park", "quist", "reyes", "sato", "torres", "usman", "vargas",
    "weber", "xu", "yilmaz", "zhang", "abara", "baker", "cruz", "diallo", "eriksen", "ferreira", "gupta",
    "horvat", "ito", "jovanovic", "kaur", "lopez", "moreau", "nielsen", "ortiz", "petrov", "ramos",
    "schmidt", "suzuki", "tran", "ueda", "vidal", "wolff", "yamamoto", "zanetti", "adeyemi", "bianchi",
    "chowdhury", "dekker", "esposito", "farouk", "greene", "hoffmann", "iqbal", "jansen", "keller",
    "lindqvist", "mwangi", "nowak", "olsen", "pereira",
)
GENERALIST_ROLES = ("Engineering manager", "Product manager", "Product designer", "QA engineer", "Technical writer")
TEAM_NAMES = ("acme", "harbor", "summit", "meadow", "cobalt", "juniper", "granite", "lantern")

# Syllables for invented internal service names in the benchmark ("kavor", "trelix", ...).
ONSETS = ("b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "dr", "kr", "st", "tr", "gl")
VOWELS = ("a", "e", "i", "o", "u", "ai", "eo")
CODAS = ("", "n", "r", "l", "s", "x", "k")
COMPONENTS = ("gateway", "worker", "scheduler", "indexer", "api", "console", "sync", "store", "router", "agent")

# -- thread openers -----------------------------------------------------------------------------

TASK_QUESTIONS = (
    "anyone know how to {task}?",
    "quick q: what's the recommended way to {task}?",
    "is there a runbook for {term}? I need to {task}",
    "Before I break something: is it safe to {task} during business hours?",
    "does anyone have experience with {term} + {term2}? We need to {task} this sprint",
    "Morning! Small one: how would you {task}?",
    "Can someone sanity-check my plan to {task}? Step one would be touching {term}.",
    "for {ticket} I need to {task}. Any gotchas?",
    "What's the least painful way to {task}? #{tag}",
)
SYMPTOM_QUESTIONS = (
    "Has anyone seen this before? {Symptom}.",
    "{Symptom} {since}. Any ideas what changed?",
    "I'm trying to {task} but {symptom}. What am I missing?",
    "who owns {term} these days? {Symptom} and I'm not sure where to start",
    "help pls: {symptom}. tried the obvious stuff, no luck",
    "{Symptom}. This is what I ran:\n```\n{snippet}\n```\nAm I doing something wrong?",
    "ugh, {symptom} again #{tag}",
    "Seeing weird behaviour with {term}: {symptom}. Is that expected?",
    "{Symptom} on {env}. Anyone around who knows {term}?",
)
TIPS = (
    "PSA: {fix} - saves a lot of pain with {term}. #{tag}",
    "TIL {cause} can mean {symptom}. The fix: {fix}.",
    "Wrote up how to {task} on the wiki, ping me if anything's unclear #{tag}",
    "Reminder for anyone touching {term}: {fix}.",
    "Heads up: {term} changes on {env} {day}. If you see {symptom}, it's probably {cause}.",
)
INCIDENTS = (
    "INC-{num}: {symptom} on {env} for about {minutes} minutes. Root cause was {cause}. Follow-ups?",
    "Postmortem draft for INC-{num} ({term}) is up. TL;DR: {symptom}. Comments welcome before {day}.",
    "Can we review INC-{num} in the next sync? {Symptom} again, second time this month.",
)

# -- replies in a question thread ------------------------------------------------------------------

TASK_ANSWERS = (
    "{Fix}.",
    "Short version: {fix}. Long version is in the {term} runbook.",
    "@{asker} {fix}",
    "I'd {fix}, then keep an eye on {term} for a day.",
    "We changed how that works {past}: {fix}. I'll update the docs #{tag}",
    "Easiest is to {fix}. Watch out for {cause}, that's what usually bites.",
    "Did that last month. {Fix}, took ten minutes.",
    "{Fix}. If you then see {symptom}, it's {cause}.",
)
SYMPTOM_ANSWERS = (
    "Yeah, we hit that {past}. {Fix}.",
    "That's usually {cause}. {Fix}.",
    "Check {term} first. Nine times out of ten it's {cause}.",
    "Known issue with {term}: {cause}. Workaround: {fix}.",
    "Sounds like {cause}. {Fix} and it should go away.",
    "It's almost always {cause} with {term}. {Fix}.",
    "Don't restart anything yet. Run `{snippet}` and look for {cause}.",
    "Ah, classic {term}. {Fix}.",
    "Try this:\n```\n{snippet}\n```\nIf it points at {cause}, {fix}.",
    "{Fix}. If that doesn't help, send me the output of `{snippet}`",
)
SECOND_ANSWERS = (
    "Hmm, then it's probably {cause}. {Fix}.",
    "OK, different idea: it could be {cause}. {Fix}.",
    "Can you paste the output of `{snippet}`? My guess now is {cause}.",
    "Then {fix}. That sorted it for @{peer} last time.",
)
HEDGES = (
    "not 100% sure, but could it be {cause}?",
    "maybe {fix}? I'm not an expert on {term} though",
    "I think {fix}, but @{expert} would know for sure",
)
THANKS = (
    "that worked, thanks!",
    "perfect, thank you :pray:",
    "ahh, it was {cause}. thanks @{expert}!",
    "confirmed, fixed. thanks a lot",
    "you're a lifesaver @{expert}",
    "works now :tada:",
    "makes sense. I'll write this down in the {term} runbook",
    "great, that did it",
)
STILL_BROKEN = (
    "still getting {symptom} :(",
    "tried that, no luck. {Symptom}.",
    "hmm, didn't help. anything else I can check?",
    "same result unfortunately",
)
CLARIFY = (  # (the asker's follow-up question, the expert's short answer)
    ("does that also apply to {term2}?", "yes, same idea there"),
    ("do I need to do that on {env} as well?", "yep, but do {env} last"),
    ("and that's safe without downtime?", "should be, but do it off-peak to be safe"),
    ("thanks! where is that written down?", "it's in the {term} section of the wiki"),
    ("how long does that usually take?", "a few minutes, less than a coffee break"),
)
BYSTANDERS = (
    "+1, seeing the same on {env}",
    "following",
    "no idea sorry, but @{expert} knows {term} best",
    "I think @{expert} set that up",
    "cc @{expert}",
    "same here {since}",
    "did you try turning it off and on again :sweat_smile:",
    "+1 would love to know too",
    "bookmarking this thread",
    "this bit me last month too",
)
CLOSERS = ("this fixed it for me too, thanks!", "adding this to the FAQ", "TIL :bulb:", "nice one", "saving this")
EXPERT_CLOSERS = ("I'll add it to the runbook", "np! shout if it comes back", "glad it worked")
TIP_REPLIES = ("nice, thanks!", "TIL", "super useful, thanks @{author}", "bookmarked", "oh that explains a lot")
INCIDENT_EXPERT = (
    "Action item for me: {fix}.",
    "I'd add an alert on {term} so we catch {cause} earlier.",
    "Agree. Also {fix}.",
    "Timeline looks right. The trigger was {cause}.",
)
INCIDENT_OTHERS = ("+1", "I'll handle the customer update", "can we make that a ticket?", "thanks for the write-up")

# -- everything that is not about a topic ----------------------------------------------------------

BANTER = (  # (opener, replies that fit it)
    ("anyone up for lunch at {place} today?",
     ("count me in", "I'm in :raised_hands:", "can't today, next time!", "12:30?", "only if we leave before the queue starts")),
    ("the coffee machine on the {floor} floor is broken again :(",
     ("noooo", "there's a kettle on the 2nd", "I reported it this morning", ":sob:")),
    ("happy friday everyone! any plans for the weekend?",
     ("hiking if the weather holds", "sleeping :sleeping:", "moving flats, send help", "nothing, and I can't wait")),
    ("just got back from {trip}, what did I miss?", ("welcome back!", "nothing much, prod is still up", "we renamed everything, good luck")),
    ("there are {food} in the kitchen, help yourselves", ("omg yes", "on my way", "what's the occasion?", "you're the best")),
    ("recommendations for a good mechanical keyboard?",
     ("anything with brown switches", "mine is loud, my neighbours hate it", "get one with a detachable cable")),
    ("it's raining so hard the bike shed flooded", ("took the bus today, good call", "my shoes are still wet", "classic")),
    ("does anyone know a good podcast for the commute?", ("I'll DM you my list", "anything about history", "I just listen to music lol")),
    ("board game night on {day}, who's in?", ("count me in", "I'll bring snacks", "which games?", "can't this week :(")),
    ("what's everyone reading at the moment?",
     ("a detective novel, can't put it down", "the same book since January", "mostly release notes :sweat_smile:")),
    ("my cat just walked across the keyboard and sent half a commit message", ("lol", "best commit of the week", "ship it")),
    ("who left the {food} by the printer? asking for a friend", ("not me", "they're gone now, sorry", "haha")),
)
ANNOUNCEMENTS = (
    "Reminder: all-hands is {day} at {time}, in the big room and on video",
    "Welcome @{peer} who joins us today! :wave:",
    "Release {version} is out :tada: thanks everyone",
    "Heads up: the VPN will be down for maintenance {day} evening",
    "The office is closed next {day} for the holiday",
    "Please fill in the engineering survey by {day}",
    "Planning docs for next quarter are in the shared drive, comments welcome",
    "The on-call rotation changes next week, check your calendar",
)
ANNOUNCEMENT_REPLIES = ("thanks!", "welcome aboard!", ":tada:", "will it be recorded?", "great work team", "noted")
CHATTER = (  # (opener, replies that fit it)
    ("standup moves to {time} tomorrow", ("ok", ":+1:", "works for me")),
    ("who's reviewing PRs today?", ("I can take two", "on it after lunch", "me")),
    ("I'll be out {day}, @{peer} covers for me", ("enjoy!", ":+1:", "noted")),
    ("sprint demo is at {time}, please add your items", ("added mine", "thanks", "ok")),
    ("retro notes are up, thanks all", ("thanks!", ":+1:")),
    ("can someone pair with me on {ticket} after lunch?", ("sure, ping me", "I can at 14:00", "on it")),
    ("hiring update: two onsite interviews next week, volunteers welcome", ("I can do one", "count me in")),
    ("can we move the planning review to {day}?", ("works for me", "fine by me")),
)
DIRECT = (
    "hey, got a minute?",
    "can you take a look at my PR when you have time?",
    "thanks for the help earlier!",
    "lunch today?",
    "running 5 min late",
    "btw do you know much about {term}?",
    "I'm stuck on {symptom}, can we pair later?",
    "sure, {time} works",
    "np!",
    "on my way",
    "did you see the planning doc?",
)
# The benchmark's held-out questions use frames that no corpus template uses.
QUERY_FRAMES = ("How do I {task}?", "Who can help me {task}?", "{Symptom} - who knows this?")

SINCE = ("since yesterday", "since this morning", "since the last deploy", "since the upgrade", "since Friday")
PAST = ("last week", "last month", "a couple of sprints ago", "during the last upgrade", "in the spring")
ENVS = ("prod", "staging", "dev", "eu-prod", "us-prod")
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
TIMES = ("10:00", "11:30", "14:00", "15:30", "16:00")
PLACES = ("the corner bakery", "the ramen bar", "the salad place downstairs", "the food market", "the taco truck")
FOODS = ("croissants", "donuts", "cookies", "bagels", "leftover birthday cake")
TRIPS = ("a week off", "the conference", "the offsite", "two weeks in the mountains")
FLOORS = ("2nd", "3rd", "4th")
STAGES = ("archive", "unit tests", "ui tests", "code signing", "upload")
BOT_REPLIES = ("looking", "that's me, on it", "flaky again?", "retrying now", "expected, I'm rolling it forward")
GENERIC_BOT_LINES = ("Deployed `{service}` {version} to {env}", "Rollback of `{service}` on {env} finished, now at {version}")
