"""Which words of a post say what it is about: the words "known for" and a digest's topics are made of.

The index's stop list is kept small on purpose (retrieval wants "how to" to match); a list of topics
must not show function words or the verbs every post uses ("after", "run", "check"). Links, code
blocks, mentions, people addressed by name and emoji are not words of a topic either.
"""

from __future__ import annotations

import re

_NOISE = re.compile(
    r"```.*?(?:```|$)|(?:[a-z][a-z0-9+.-]*://|www\.)\S+|(?<![\w])@[\w.-]+|:[a-z0-9_+-]+:|^\s*[\w.-]+\s*:(?=\s)",
    re.IGNORECASE | re.DOTALL | re.MULTILINE,
)
_WORD = re.compile(r"[^\W\d_]\w*(?:\.\w+)*", re.UNICODE)

GENERIC_WORDS = frozenset(
    """
    about above after again against ago all almost along already also although always among and another any anyone
    anything anyway anywhere are around as at away back be because been before behind being below between both but by
    can cannot could did does doing done down during each either else enough even ever every everyone everything
    few for from further get gets getting got gotten had has have having here hers herself him himself his how however
    if into its itself just least less let lets like likely many maybe might more most much must myself near need needs
    neither never next nor not nothing now of off often once only onto or other others otherwise our ours ourselves out
    over own perhaps please quite rather really same seem seems several shall she should since so some somehow someone
    something sometimes somewhere soon still such than that that's the their theirs them themselves then there these they
    thing things this those though through thus till to today together tomorrow too toward towards under unless until
    up upon us very via was way ways we well were what whatever when whenever where whether which while who whoever whole
    whom whose why will with within without would yes yet you your yours yourself yesterday
    able actually add added adding ask asked asking bad better big call called came case change changed check checked
    checking come comes coming create created day days did didn't different does doesn't doing don't done easy else
    end example fine find fix fixed found give given go goes going good great happen happened happens help helps hi
    hello hey idea issue issues keep kind know known last later look looked looking looks lot lots make makes making
    mean means mine need new nice old one ones part point possible pretty probably problem problems put question
    questions read ready real right run running runs said say says see seems seen served set sets show shows side simple
    small sort start started stuff sure take taken talk tell thanks thank think thought time times tried tries try
    trying turn two understand use used useful uses using want wanted wants wasn't week weeks work worked working works
    wrong year years yeah yep okay ok guys folks team everybody anybody first second third least whole full
    """.split()
)
"""Function words and the verbs, adverbs and adjectives any chat uses whatever its topic."""


def strip_noise(message: str) -> str:
    """The post without code blocks, links, mentions, emoji and a leading "name:" address."""
    return _NOISE.sub(" ", message)


def topical_words(message: str) -> list[str]:
    """The lowercased words of a post that can name a topic, in order (repeats kept)."""
    return [w for w in (m.lower() for m in _WORD.findall(strip_noise(message))) if len(w) >= 3 and w not in GENERIC_WORDS]
