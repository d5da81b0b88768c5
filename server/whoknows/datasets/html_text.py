"""Plain text from a Stack Exchange post body (HTML): tags dropped, entities decoded, code and line
structure kept. Stdlib only."""

from __future__ import annotations

from html.parser import HTMLParser

_PARAGRAPH_TAGS = frozenset(
    {"p", "pre", "blockquote", "ul", "ol", "dl", "table", "hr", "h1", "h2", "h3", "h4", "h5", "h6"}
)
_LINE_TAGS = frozenset({"li", "tr", "div", "dt", "dd"})


class _TextExtractor(HTMLParser):
    """HTML to plain text: keeps code, turns blocks into line breaks, collapses other whitespace."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._parts: list[str] = []
        self._tail = ""  # the last two characters written
        self._pre = 0
        self._space = False  # a space is owed before the next word on this line

    def _emit(self, text: str) -> None:
        if text:
            self._parts.append(text)
            self._tail = (self._tail + text)[-2:]

    def _break(self, newlines: int) -> None:
        """Ends the line so the output ends with `newlines` line breaks (nothing at the start)."""
        self._space = False
        if self._parts:
            have = len(self._tail) - len(self._tail.rstrip("\n"))
            self._emit("\n" * max(0, newlines - have))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            have = len(self._tail) - len(self._tail.rstrip("\n"))
            self._break(min(have + 1, 2))
        elif tag in _PARAGRAPH_TAGS:
            self._break(2)
            if tag == "pre":
                self._pre += 1
        elif tag in _LINE_TAGS:
            self._break(1)

    def handle_endtag(self, tag: str) -> None:
        if tag in _PARAGRAPH_TAGS:
            if tag == "pre":
                self._pre = max(0, self._pre - 1)
            self._break(2)
        elif tag in _LINE_TAGS:
            self._break(1)

    def handle_data(self, data: str) -> None:
        if self._pre:
            self._emit(data)
            return
        if data[:1].isspace():
            self._space = True
        for index, word in enumerate(data.split()):
            if index:
                self._space = True
            if self._space and self._tail and not self._tail.endswith("\n"):
                self._emit(" ")
            self._space = False
            self._emit(word)
        if data[-1:].isspace():
            self._space = True

    def text(self) -> str:
        return "".join(self._parts).strip("\n").rstrip()


def html_to_text(html: str) -> str:
    """Plain text of a post body: tags dropped, entities decoded, code and line structure kept."""
    extractor = _TextExtractor()
    extractor.feed(html)
    extractor.close()
    return extractor.text()


__all__ = ["html_to_text"]
