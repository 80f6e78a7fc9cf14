"""Text matches that run in linear time and mean the same on both scoring paths.

A rule matches text in two ways: a pattern ops write (the advanced "regex"
operator, URL patterns, buying-committee roles), or words and phrases
("contains any of", "starts with") that the product turns into the match
itself. Either way the match is parsed here into a small tree and written out
twice from that one tree: for RE2 in the Python engine, which runs in time
linear in its input whatever the pattern, and for PostgreSQL's ``~`` in the
set-wise path. Writing both from one tree is what keeps them equal:

- case-insensitivity is spelled out (each letter becomes the class of its
  cases) and both engines match case-sensitively: PostgreSQL's ``~*`` folds
  case by the database's locale, RE2 by Unicode's tables, and they differ;
- ``\\d``, ``\\s`` and ``\\w`` become ASCII classes (PostgreSQL's follow the
  locale);
- every character but ASCII letters and digits is written as an escape, so
  no character means one thing to one engine and another to the other;
- what RE2 cannot run in linear time (back-references, look-around) and what
  the two engines read differently (``\\b``, which is a backspace in
  PostgreSQL) are refused when the rule is saved, by ``parse``.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import re2  # type: ignore[import-untyped]

logger = logging.getLogger(__name__)

MAX_PATTERN_LENGTH = 500
MAX_REPEAT = 255  # PostgreSQL's largest {m,n}
MAX_PHRASES = 50
MAX_PHRASE_LENGTH = 100

Dialect = Literal["re2", "pg"]
Ranges = tuple[tuple[int, int], ...]

MAX_CODEPOINT = 0x10FFFF
SURROGATES = (0xD800, 0xDFFF)
# Ranges wider than this are taken as written, without their other cases
# (a class of a whole script is not about case).
CASE_FOLD_LIMIT = 0x3000


class PatternError(ValueError):
    """A pattern refused, with a message for the person who wrote it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Searchable(Protocol):
    def search(self, text: str) -> Any: ...


# --- the tree -----------------------------------------------------------------------


@dataclass(frozen=True)
class Chars:
    """One character out of a set (or, negated, not out of it)."""

    ranges: Ranges
    negated: bool = False


@dataclass(frozen=True)
class AnyChar:
    pass


@dataclass(frozen=True)
class Anchor:
    at: Literal["^", "$"]


@dataclass(frozen=True)
class Seq:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Alt:
    branches: tuple[Node, ...]


@dataclass(frozen=True)
class Repeat:
    node: Node
    low: int
    high: int | None  # None: no upper bound


Node = Chars | AnyChar | Anchor | Seq | Alt | Repeat


def _merge(ranges: Iterable[tuple[int, int]]) -> Ranges:
    merged: list[tuple[int, int]] = []
    for lo, hi in sorted(ranges):
        if merged and lo <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(hi, merged[-1][1]))
        else:
            merged.append((lo, hi))
    return tuple(merged)


@functools.lru_cache(maxsize=4096)
def _cases(cp: int) -> tuple[int, ...]:
    """A character and its other cases (those that are one character)."""
    found = {cp}
    c = chr(cp)
    for variant in (c.lower(), c.upper()):
        for v in (variant, variant.lower(), variant.upper()):
            if len(v) == 1:
                found.add(ord(v))
    return tuple(found)


def _any_case(ranges: Ranges) -> Ranges:
    out = list(ranges)
    for lo, hi in ranges:
        if hi - lo > CASE_FOLD_LIMIT:
            continue
        out += [(v, v) for cp in range(lo, hi + 1) for v in _cases(cp)]
    return _merge(out)


def _chars(text: str) -> Chars:
    return Chars(_merge((ord(c), ord(c)) for c in text))


ASCII_DIGITS: Ranges = ((0x30, 0x39),)
ASCII_SPACE: Ranges = ((0x09, 0x0D), (0x20, 0x20))
ASCII_WORD: Ranges = ((0x30, 0x39), (0x41, 0x5A), (0x5F, 0x5F), (0x61, 0x7A))
# What separates words in a title: everything but letters and digits in
# ASCII and Latin-1, general punctuation (dashes, quotes, …) and CJK
# punctuation. Any other character (letters of every script) is part of a word.
SEPARATORS: Ranges = _merge(
    [
        (0x01, 0x2F),
        (0x3A, 0x40),
        (0x5B, 0x60),
        (0x7B, 0xA9),
        (0xAB, 0xB4),
        (0xB6, 0xB9),
        (0xBB, 0xBF),
        (0xD7, 0xD7),
        (0xF7, 0xF7),
        (0x2000, 0x206F),
        (0x3000, 0x303F),
    ]
)


# --- parsing a pattern ops wrote --------------------------------------------------------

_CLASS_ESCAPES: dict[str, tuple[Ranges, bool]] = {
    "d": (ASCII_DIGITS, False),
    "D": (ASCII_DIGITS, True),
    "s": (ASCII_SPACE, False),
    "S": (ASCII_SPACE, True),
    "w": (ASCII_WORD, False),
    "W": (ASCII_WORD, True),
}
_NO_LINEAR_TIME = "which cannot be run in linear time"


class _Parser:
    """A recursive-descent reader of the portable subset of regular
    expressions: literals, ., ^, $, [classes], (groups), (?:groups), |, and
    the quantifiers * + ? {m} {m,} {m,n} (a trailing ? is accepted)."""

    def __init__(self, pattern: str) -> None:
        self.p = pattern
        self.i = 0

    def fail(self, what: str) -> PatternError:
        return PatternError(f"Not a valid regular expression: {what} at position {self.i}.")

    def peek(self, ahead: int = 0) -> str:
        j = self.i + ahead
        return self.p[j] if j < len(self.p) else ""

    def parse(self) -> Node:
        node = self.alternation()
        if self.i < len(self.p):
            raise self.fail("unbalanced parenthesis")
        return node

    def alternation(self) -> Node:
        branches = [self.sequence()]
        while self.peek() == "|":
            self.i += 1
            branches.append(self.sequence())
        return branches[0] if len(branches) == 1 else Alt(tuple(branches))

    def sequence(self) -> Node:
        items: list[Node] = []
        while self.i < len(self.p) and self.peek() not in "|)":
            atom = self.atom()
            items.append(self.quantified(atom))
        return items[0] if len(items) == 1 else Seq(tuple(items))

    def quantified(self, atom: Node) -> Node:
        c = self.peek()
        if c in ("*", "+", "?"):
            self.i += 1
            low, high = {"*": (0, None), "+": (1, None), "?": (0, 1)}[c]
        elif c == "{":
            low, high = self.bounds()
        else:
            return atom
        if isinstance(atom, Anchor):
            raise self.fail("nothing to repeat")
        if self.peek() == "?":  # lazy: the same texts match, only the span differs
            self.i += 1
        if self.peek() and self.peek() in "*+?{":
            raise self.fail("multiple repeat")
        return Repeat(atom, low, high)

    def bounds(self) -> tuple[int, int | None]:
        end = self.p.find("}", self.i)
        body = self.p[self.i + 1 : end] if end > 0 else ""
        low_text, comma, high_text = body.partition(",")
        if end < 0 or not low_text.isdigit() or not (high_text.isdigit() or high_text == ""):
            raise self.fail(r"a repeat is {m}, {m,} or {m,n}; use \{ for a brace")
        low = int(low_text)
        high = int(high_text) if high_text else (None if comma else low)
        if max(low, high or 0) > MAX_REPEAT:
            raise PatternError(f"Repeat counts go up to {MAX_REPEAT}.")
        if high is not None and high < low:
            raise self.fail("a repeat's maximum is below its minimum")
        self.i = end + 1
        return low, high

    def atom(self) -> Node:
        c = self.peek()
        if c in ("*", "+", "?", "{"):
            raise self.fail("nothing to repeat")
        self.i += 1
        if c == ".":
            return AnyChar()
        if c == "^":
            return Anchor("^")
        if c == "$":
            return Anchor("$")
        if c == "[":
            return self.char_class()
        if c == "(":
            self.group_kind()
            inner = self.alternation()
            if self.peek() != ")":
                raise self.fail("missing )")
            self.i += 1
            return inner
        if c == "\\":
            ranges, negated = self.escape(in_class=False)
            return Chars(ranges, negated)
        return _chars(c)

    def group_kind(self) -> None:
        if self.peek() != "?":
            return
        nxt, after = self.peek(1), self.peek(2)
        if nxt == ":":
            self.i += 2
            return
        if nxt in ("=", "!"):
            raise PatternError(
                f"This pattern uses a look-ahead, {_NO_LINEAR_TIME}; match the text "
                "itself, or use a character class such as [^a-z]."
            )
        if nxt == "<" and after in ("=", "!"):
            raise PatternError(
                f"This pattern uses a look-behind, {_NO_LINEAR_TIME}; match the text "
                "itself, or use a character class such as [^a-z]."
            )
        if nxt in ("P", "<"):
            raise PatternError("This pattern names a group; use a plain group ( … ) instead.")
        raise PatternError(
            "This pattern sets a flag such as (?i); patterns are always "
            "case-insensitive, so leave it out."
        )

    def escape(self, *, in_class: bool) -> tuple[Ranges, bool]:
        c = self.peek()
        if c == "":
            raise self.fail("a pattern cannot end with \\")
        self.i += 1
        if c in _CLASS_ESCAPES:
            ranges, negated = _CLASS_ESCAPES[c]
            if negated and in_class:
                raise PatternError(f"\\{c} is not supported inside [ ]; use [^…] instead.")
            return ranges, negated
        if c.isdigit():
            raise PatternError(
                f"This pattern uses a back-reference (\\{c}), {_NO_LINEAR_TIME}; "
                "write out the text it repeats instead."
            )
        if c.isascii() and not c.isalnum():
            return ((ord(c), ord(c)),), False
        raise PatternError(
            f"\\{c} is not supported in patterns; use character classes such as [^a-z] instead."
        )

    def char_class(self) -> Chars:
        negated = self.peek() == "^"
        if negated:
            self.i += 1
        ranges: list[tuple[int, int]] = []
        first = True
        while True:
            c = self.peek()
            if c == "":
                raise self.fail("missing ], unterminated character set")
            if c == "]" and not first:
                self.i += 1
                break
            first = False
            if c == "[" and self.peek(1) in (":", ".", "="):
                raise PatternError(
                    "Classes such as [[:alpha:]] are not supported; write the characters "
                    "out, e.g. [a-z]."
                )
            lo_ranges = self.class_item()
            if self.peek() == "-" and self.peek(1) not in ("]", ""):
                self.i += 1
                hi_ranges = self.class_item()
                if len(lo_ranges) != 1 or len(hi_ranges) != 1 or lo_ranges[0][0] != lo_ranges[0][1]:
                    raise self.fail("bad character range")
                lo, hi = lo_ranges[0][0], hi_ranges[0][0]
                if hi_ranges[0][0] != hi_ranges[0][1] or hi < lo:
                    raise self.fail("bad character range")
                ranges.append((lo, hi))
            else:
                ranges += lo_ranges
        return Chars(_merge(ranges), negated)

    def class_item(self) -> Ranges:
        c = self.peek()
        self.i += 1
        if c == "\\":
            ranges, _ = self.escape(in_class=True)
            return ranges
        return ((ord(c), ord(c)),)


def parse(pattern: str) -> Node:
    """The tree of a pattern ops wrote; PatternError says what is wrong with it."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise PatternError(f"A pattern has at most {MAX_PATTERN_LENGTH} characters.")
    return _Parser(pattern).parse()


# --- words and phrases ------------------------------------------------------------------


def _is_word_char(c: str) -> bool:
    cp = ord(c)
    return not any(lo <= cp <= hi for lo, hi in SEPARATORS)


def _phrase(text: str) -> Node:
    """A phrase's characters, any case; a run of spaces inside it matches any
    run of separators ("vice president" matches "Vice-President")."""
    items: list[Node] = []
    for word_index, word in enumerate(text.split()):
        if word_index:
            items.append(Repeat(Chars(SEPARATORS), 1, None))
        items += [_chars(c) for c in word]
    return Seq(tuple(items))


def phrases(operator: Literal["contains_any", "starts_with"], values: Sequence[str]) -> Node:
    """The match of "contains any of" or "starts with" a list of phrases:
    whole words, case-insensitive. A phrase that begins (ends) with a letter
    or digit must not follow (be followed by) one; punctuation at its edge is
    matched as it is ("C++", "Sr.")."""
    before = Alt((Anchor("^"), Chars(SEPARATORS)))
    after = Alt((Chars(SEPARATORS), Anchor("$")))
    groups: dict[tuple[bool, bool], list[Node]] = {}
    for value in values:
        text = value.strip()
        key = (
            operator == "contains_any" and _is_word_char(text[0]),
            _is_word_char(text[-1]),
        )
        groups.setdefault(key, []).append(_phrase(text))
    branches: list[Node] = []
    for (bounded_before, bounded_after), nodes in sorted(groups.items()):
        items: list[Node] = []
        if operator == "starts_with":
            items += [Anchor("^"), Repeat(Chars(SEPARATORS), 0, None)]
        elif bounded_before:
            items.append(before)
        items.append(Alt(tuple(nodes)))
        if bounded_after:
            items.append(after)
        branches.append(Seq(tuple(items)))
    return Alt(tuple(branches))


# --- writing the tree out ---------------------------------------------------------------


def _codepoint(cp: int, dialect: Dialect) -> str:
    if cp < 0x80 and chr(cp).isalnum():
        return chr(cp)
    if dialect == "re2":
        return f"\\x{{{cp:X}}}"
    return f"\\u{cp:04X}" if cp <= 0xFFFF else f"\\U{cp:08X}"


def _class(chars: Chars, dialect: Dialect) -> str:
    parts: list[str] = []
    for lo, hi in _any_case(chars.ranges):
        # PostgreSQL's text holds neither NUL nor surrogates: no range
        # starts or ends on one.
        lo = max(lo, 1)
        if SURROGATES[0] <= lo <= SURROGATES[1]:
            lo = SURROGATES[1] + 1
        if SURROGATES[0] <= hi <= SURROGATES[1]:
            hi = SURROGATES[0] - 1
        if lo > hi:
            continue
        parts.append(
            _codepoint(lo, dialect)
            if lo == hi
            else f"{_codepoint(lo, dialect)}-{_codepoint(hi, dialect)}"
        )
    if not parts:  # nothing left: a class no character is in
        return f"[^{_codepoint(1, dialect)}-{_codepoint(MAX_CODEPOINT, dialect)}]"
    return f"[{'^' if chars.negated else ''}{''.join(parts)}]"


def render(node: Node, dialect: Dialect) -> str:
    """The tree in one engine's syntax, to be matched case-sensitively."""
    if isinstance(node, Chars):
        return _class(node, dialect)
    if isinstance(node, AnyChar):
        return "(?s:.)" if dialect == "re2" else "."
    if isinstance(node, Anchor):
        return node.at
    if isinstance(node, Alt):
        return "|".join(render(b, dialect) for b in node.branches)
    if isinstance(node, Seq):
        return "".join(
            f"(?:{render(i, dialect)})" if isinstance(i, Alt) else render(i, dialect)
            for i in node.items
        )
    inner = render(node.node, dialect)
    if not isinstance(node.node, Chars | AnyChar):
        inner = f"(?:{inner})"
    if node.high is None:
        quantifier = {0: "*", 1: "+"}.get(node.low, f"{{{node.low},}}")
    elif node.low == node.high:
        quantifier = f"{{{node.low}}}"
    else:
        quantifier = "?" if (node.low, node.high) == (0, 1) else f"{{{node.low},{node.high}}}"
    return inner + quantifier


# --- what the engines run ---------------------------------------------------------------


@dataclass(frozen=True)
class TextMatch:
    """One match, compiled for RE2 (``search``) and written for PostgreSQL
    (``sql``, for ``column ~ %s``)."""

    compiled: Any
    sql: str

    def search(self, text: str) -> Any:
        """A match object when the text matches somewhere, else None."""
        return self.compiled.search(text)


def _options() -> Any:
    options = re2.Options()
    options.log_errors = False  # a refused pattern is a message, not a log line
    return options


def _compile(node: Node) -> TextMatch:
    try:
        compiled = re2.compile(render(node, "re2"), _options())
    except re2.error:
        raise PatternError(
            "This pattern is too large to run; split it into several rules."
        ) from None
    return TextMatch(compiled, render(node, "pg"))


@functools.lru_cache(maxsize=512)
def compile_pattern(pattern: str) -> TextMatch:
    """A pattern ops wrote, case-insensitive. Raises PatternError."""
    return _compile(parse(pattern))


@functools.lru_cache(maxsize=512)
def runnable_pattern(pattern: str) -> TextMatch:
    """compile_pattern for a pattern already saved, as the engines compile it.

    A pattern saved before patterns had to run in linear time, and refused
    now (a look-ahead, a back-reference…), matches nothing on either path,
    with a warning in the log: one such rule must not stop every lead of its
    version from being scored, nor hang the worker that tries.
    """
    try:
        return compile_pattern(pattern)
    except PatternError as error:
        logger.warning("pattern %r matches nothing: %s", pattern, error.message)
        return _compile(Chars(()))


@functools.lru_cache(maxsize=512)
def compile_phrases(
    operator: Literal["contains_any", "starts_with"], values: tuple[str, ...]
) -> TextMatch:
    """ "contains any of" / "starts with" a list of phrases (see ``phrases``)."""
    return _compile(phrases(operator, values))
