"""The analyser every engine indexes with, so a term means the same whichever engine is chosen: Whoosh's
tokenizer and a stop list for chat, then one filter that knows about scripts (`WordsFilter`). Whoosh is
checked first: look-alike forks install the same `whoosh` package but differ in format and provenance.

What a term is, beyond English:
- Chinese, Japanese and Korean write words without spaces, so a run of their characters is indexed as
  overlapping bigrams ("数据库迁移" -> 数据 据库 库迁 迁移), the same at index and query time: a word
  inside a run is found without a dictionary (a lone character stays one term).
- Latin letters lose their diacritics ("configuración" -> "configuracion", "Größe" -> "grosse"), since
  plurals move accents and people type without them.
- Porter (English) stems only words that are ASCII after folding: its -s/-es/-e rules already fold most
  French, Spanish, Portuguese and German plurals, and it never touched other letters; words in other
  scripts (Cyrillic, Greek, ...) are kept whole instead of being cut by rules written for English.
- A few plural endings that English never has are folded first (German -ungen, -ionen, -nisse, ...,
  French -eaux/-aux, Portuguese -ões/-éis/-veis). Plurals that only add -n/-en (Datenbank/Datenbanken)
  are not folded: that rule would also merge English words (listen/list, token/tok).
`ANALYSIS_VERSION` names this scheme; an index made under another one is rebuilt (service.repair)."""

from __future__ import annotations

import functools
import importlib.metadata
import unicodedata
from collections.abc import Iterator
from typing import Any


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

from whoosh.analysis import STOP_WORDS, Filter, LowercaseFilter, RegexTokenizer  # noqa: E402
from whoosh.lang.porter import stem  # noqa: E402

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

MIN_CHARS, MAX_CHARS = 2, 40
"""Shorter and longer words are not terms (CJK bigrams and lone characters are)."""
ANALYSIS_VERSION = 2
"""1: Whoosh's StemmingAnalyzer (Porter on every word); 2: this module's scripts, folding and plurals."""

_FOLDED = {"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "đ": "d", "ð": "d", "þ": "th", "ł": "l", "ı": "i"}
_PLURALS = (("ungen", "ung"), ("heiten", "heit"), ("keiten", "keit"), ("schaften", "schaft"), ("ionen", "ion"),
            ("nissen", "nis"), ("nisse", "nis"), ("eien", "ei"), ("eaux", "eau"), ("aux", "al"))
"""Plural endings of German and French that no English word has (checked on the folded word)."""
_MARKED_PLURALS = (("ões", "ão"), ("ães", "ão"), ("ãos", "ão"), ("éis", "el"), ("óis", "ol"), ("veis", "vel"), ("äten", "ät"))
"""Plural endings keyed on their diacritics (checked before folding): Portuguese -ão/-ões, -el/-éis, -vel/-veis."""
_STEM_AT_LEAST = 3
"""A plural ending is folded only when this much of the word is left before it (2 for the marked ones: níveis)."""


def _is_cjk(ch: str) -> bool:
    o = ord(ch)
    return (0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0x20000 <= o <= 0x2FFFF or 0xF900 <= o <= 0xFAFF  # Han
            or 0x3040 <= o <= 0x30FF or 0x31F0 <= o <= 0x31FF or 0x3005 <= o <= 0x3007  # kana, 々 〆 〇
            or 0xAC00 <= o <= 0xD7AF or 0x1100 <= o <= 0x11FF or 0x3130 <= o <= 0x318F)  # Hangul


def _is_kana(ch: str) -> bool:
    return 0x3040 <= ord(ch) <= 0x30FF or 0x31F0 <= ord(ch) <= 0x31FF


@functools.lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    if ch in _FOLDED:
        return _FOLDED[ch]
    bare = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
    return bare.lower() if bare.isascii() else unicodedata.normalize("NFKC", ch)


def _unplural(word: str, endings: tuple[tuple[str, str], ...], least: int) -> str:
    for ending, singular in endings:
        if word.endswith(ending) and len(word) - len(ending) >= least:
            return word[: -len(ending)] + singular
    return word


@functools.lru_cache(maxsize=65_536)
def _word_term(word: str) -> str | None:
    """One lowercased word (no CJK in it) -> its term, or None for a stop word or a word of the wrong size."""
    if not word.isascii():
        word = "".join(_fold_char(c) for c in _unplural(word, _MARKED_PLURALS, _STEM_AT_LEAST - 1))
    if not MIN_CHARS <= len(word) <= MAX_CHARS or word in CHAT_STOP_WORDS:
        return None
    if not word.isascii():
        return word  # another script: kept whole, never cut by English rules
    return str(stem(_unplural(word, _PLURALS, _STEM_AT_LEAST)))


@functools.lru_cache(maxsize=16_384)
def _terms_of_token(token: str) -> tuple[str, ...]:
    """A token that is not plain ASCII: its CJK runs as bigrams, the rest as words."""
    out: list[str] = []
    start = 0
    while start < len(token):
        cjk = _is_cjk(token[start])
        end = start + 1
        while end < len(token) and _is_cjk(token[end]) == cjk:
            end += 1
        run, start = token[start:end], end
        if not cjk:
            term = _word_term(run)
            out.extend([term] if term is not None else [])
        elif len(run) > 1 or not _is_kana(run):  # a lone kana is a particle, or the ツ of a shrug
            out.extend(run[i:i + 2] for i in range(max(1, len(run) - 1)))
    return tuple(out)


class WordsFilter(Filter):  # type: ignore[misc]
    """Lowercased tokens -> terms: stop words and odd sizes dropped, CJK bigrams, folded, stemmed (module docstring).

    Picklable (Whoosh keeps the analyser in the index's schema): its work is in module-level functions."""

    def __call__(self, tokens: Iterator[Any]) -> Iterator[Any]:
        for t in tokens:
            text = t.text
            if text.isascii():
                term = _word_term(text)
                if term is not None:
                    t.text = term
                    yield t
                continue
            for term in _terms_of_token(text):
                t.text = term
                yield t


ANALYZER = RegexTokenizer() | LowercaseFilter() | WordsFilter()
