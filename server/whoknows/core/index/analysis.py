"""The analyser every engine indexes with, so a term means the same whichever engine is chosen: Whoosh's
stemming analyser with a stop list for chat. Whoosh is checked first: look-alike forks install the same
`whoosh` package but differ in format and provenance."""

from __future__ import annotations

import importlib.metadata


class WrongWhoosh(Exception):
    """The installed `whoosh` package is not the pinned whoosh-reloaded (its text says what to do)."""


EXPECTED_DISTRIBUTION = "Whoosh-Reloaded"
EXPECTED_VERSION = "2.7.5"


def check_whoosh_distribution() -> None:
    """Refuses a look-alike fork: they all install the `whoosh` package but differ in format and provenance."""
    providers = importlib.metadata.packages_distributions().get("whoosh", [])
    names = sorted({p.lower() for p in providers})
    if names != [EXPECTED_DISTRIBUTION.lower()]:
        raise WrongWhoosh(
            f"the installed 'whoosh' package comes from {providers or 'nothing'}; whoknows needs exactly "
            f"{EXPECTED_DISTRIBUTION}=={EXPECTED_VERSION} (remove the others and reinstall)"
        )
    version = importlib.metadata.version(EXPECTED_DISTRIBUTION)
    if version != EXPECTED_VERSION:
        raise WrongWhoosh(f"{EXPECTED_DISTRIBUTION} {version} is installed; whoknows needs {EXPECTED_VERSION}")


check_whoosh_distribution()

from whoosh.analysis import STOP_WORDS, StemmingAnalyzer  # noqa: E402

# Words that carry no topic in chat questions, on top of Whoosh's English stop list.
CHAT_STOP_WORDS = frozenset(STOP_WORDS) | frozenset(
    """
    how do does did doing done what why when where which who whom whose anyone anybody someone somebody
    know knows knew i i'm im me my mine we our ours us you your yours he she him her his they them their its it's
    get gets got getting thanks thank thx please pls hi hello hey folks all guys team just like need needs want
    wants use used uses using way ways there here help question questions something anything thing things able
    would should could can cannot can't dont don't doesn't isn't wasn't any some also still really very much many
    is am are was were been being have has had having one two new now then than too so ok okay yes no not
    """.split()
)

ANALYZER = StemmingAnalyzer(stoplist=CHAT_STOP_WORDS, minsize=2, maxsize=40)
