"""Text from students, made safe to store, print and put in a spreadsheet.

A submission can carry any code point, including lone surrogates (valid in
JSON's ``\\ud800`` escapes, invalid in UTF-8), control characters, and cells
that a spreadsheet would run as a formula. Every string that crosses from a
submission into a file the grader writes passes through here once.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_str(text: str) -> str:
    """Lone surrogates become U+FFFD; everything else is kept.

    >>> clean_str("a\\ud800b")
    'a\\ufffdb'
    """
    if not isinstance(text, str):
        text = str(text)
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def clean_tree(value):
    """``clean_str`` applied to every string (keys too) of a JSON-like tree."""
    if isinstance(value, str):
        return clean_str(value)
    if isinstance(value, list):
        return [clean_tree(v) for v in value]
    if isinstance(value, dict):
        return {clean_str(k): clean_tree(v) for k, v in value.items()}
    return value


def one_line(text: str, limit: int | None = None) -> str:
    """Control characters and line breaks out, for a table cell or a log line."""
    text = _CONTROL.sub("?", clean_str(text)).replace("\r", " ").replace("\n", " ")
    return text if limit is None or len(text) <= limit else text[: limit - 3] + "..."


def csv_cell(text: str) -> str:
    """A text cell that no spreadsheet will run as a formula.

    Cells that begin with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
    return get a leading apostrophe (the OWASP advice for CSV injection).

    >>> csv_cell("=HYPERLINK(\\"http://x\\")")
    '\\'=HYPERLINK("http://x")'
    """
    text = one_line(text)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
