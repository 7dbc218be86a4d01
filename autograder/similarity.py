"""Pairs of submissions whose code is near-identical, for the instructor to review.

Nothing is deducted automatically: :func:`similar_pairs` only lists pairs of
students whose own code cells, once normalised, are nearly the same.

Normalisation (with the :mod:`tokenize` module): comments, blank lines,
indentation and whitespace are dropped; every identifier that is not a
Python keyword or builtin, an attribute name or a string is renamed to a
placeholder by order of first appearance (``v0``, ``v1``, ...), so renaming
variables or reformatting does not hide a copy. Lines every student shares
(the stub text ``raise NotImplementedError()``, the solution markers and any
line that appears in the given ``shared`` sources, such as the locked cells)
are ignored. Two submissions are compared on token 4-gram multisets
(Jaccard) and with :class:`difflib.SequenceMatcher` on the token stream;
the score is the larger of the two.
"""

from __future__ import annotations

import builtins
import difflib
import io
import itertools
import keyword
import token
import tokenize
from collections import Counter

#: Lines every student shares, whatever they write.
STUB_LINES = ("raise NotImplementedError()", "### BEGIN SOLUTION", "### END SOLUTION")
#: Submissions with fewer normalised tokens than this are not compared (blank work).
MIN_TOKENS = 20
NGRAM = 4


def _logical_lines(source: str) -> list[str]:
    return [line for line in source.split("\n")
            if line.strip() and not line.lstrip().startswith(("%", "!"))]


def _tokens(source: str, names: dict) -> list[str]:
    """Normalised tokens of one cell (names renamed via the shared ``names`` map)."""
    out = []
    try:
        stream = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return source.split()
    previous = None
    for tok in stream:
        if tok.type in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT,
                        tokenize.DEDENT, tokenize.ENDMARKER, token.ENCODING):
            continue
        text = tok.string
        if tok.type == tokenize.NAME and not keyword.iskeyword(text) and not hasattr(builtins, text) \
                and not (previous is not None and previous.string == "."):
            if text not in names:
                names[text] = f"v{len(names)}"
            text = names[text]
        elif tok.type == tokenize.NUMBER:
            text = text.lower().replace("_", "")
        out.append(text)
        previous = tok
    return out


def normalise(cells: list[str], shared: frozenset = frozenset()) -> list[str]:
    """The normalised token stream of one student's code cells."""
    names: dict = {}
    out = []
    for cell in cells:
        kept = [ln for ln in _logical_lines(cell)
                if ln.strip() not in STUB_LINES and ln.strip() not in shared]
        if kept:
            out += _tokens("\n".join(kept) + "\n", names)
    return out


def _ngrams(tokens: list[str], n: int = NGRAM) -> Counter:
    return Counter(tuple(tokens[i:i + n]) for i in range(max(len(tokens) - n + 1, 0)))


def _jaccard(a: Counter, b: Counter) -> float:
    union = sum((a | b).values())
    return sum((a & b).values()) / union if union else 0.0


def similarity(a: list[str], b: list[str]) -> float:
    """Similarity in [0, 1] of two normalised token streams."""
    if not a or not b:
        return 0.0
    jac = _jaccard(_ngrams(a), _ngrams(b))
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    return max(jac, matcher.ratio())


def similar_pairs(notebooks: dict[str, list[str]], threshold: float = 0.9, *,
                  shared: list[str] | tuple = ()) -> list[tuple[str, str, float]]:
    """Pairs of students whose own code cells are near-identical.

    Parameters
    ----------
    notebooks : dict
        student -> list of the sources of the student's own code cells.
    threshold : float
        Pairs scoring at least this (0 to 1) are reported.
    shared : list of str, optional
        Sources every student receives (locked cells, the released stubs):
        their lines are ignored.

    Returns
    -------
    list of (student_a, student_b, score), highest score first, with
    ``student_a < student_b``; the score is rounded to 3 decimals.
    """
    shared_lines = frozenset(ln.strip() for src in shared for ln in _logical_lines(src))
    streams = {s: normalise(list(cells), shared_lines) for s, cells in notebooks.items()}
    streams = {s: t for s, t in streams.items() if len(t) >= MIN_TOKENS}
    pairs = []
    for a, b in itertools.combinations(sorted(streams), 2):
        ta, tb = streams[a], streams[b]
        # cheap bound first: SequenceMatcher's ratio cannot exceed this
        if 2 * min(len(ta), len(tb)) / (len(ta) + len(tb)) < threshold and \
                _jaccard(_ngrams(ta), _ngrams(tb)) < threshold:
            continue
        score = similarity(ta, tb)
        if score >= threshold:
            pairs.append((a, b, round(score, 3)))
    return sorted(pairs, key=lambda p: (-p[2], p[0], p[1]))
