"""Character-level BIO data for product NER: reading, entity spans, normalisation, seen/unseen splits.

The files hold one ``<char> <tag>`` per line and a blank line between sentences (CRLF or LF)::

    华 B-HPPX
    为 I-HPPX
    手 B-HCCX
    机 I-HCCX

Tags are ``O`` or ``B-<TYPE>`` / ``I-<TYPE>``; the e-commerce set uses HCCX (product type), HPPX (brand),
XH (model number) and MISC.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from shopguide.errors import DataError

#: Entity types of the e-commerce set, and the two the guide cares about most.
ENTITY_TYPES: tuple[str, ...] = ("HCCX", "HPPX", "XH", "MISC")
FOCUS_TYPES: tuple[str, ...] = ("HCCX", "HPPX")

_LINE = re.compile(r"^(.)[ \t]+(O|[BI]-[A-Za-z_]+)[ \t]*$")


class Entity(NamedTuple):
    """One tagged span: ``text == source[start:end]`` in the text it was found in."""

    type: str
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Sentence:
    """One sentence: its characters and their BIO tags (same length)."""

    chars: tuple[str, ...]
    tags: tuple[str, ...]

    @property
    def text(self) -> str:
        return "".join(self.chars)

    def entities(self) -> list[Entity]:
        return entities(self.text, self.tags)


def parse_bio(lines: Iterable[str], *, file: str = "<input>") -> list[Sentence]:
    """Parse BIO lines into sentences; a malformed line raises :class:`DataError` naming file and line."""
    sentences: list[Sentence] = []
    chars: list[str] = []
    tags: list[str] = []
    for lineno, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r\n")
        if not line.strip(" \t\r"):
            if chars:
                sentences.append(Sentence(tuple(chars), tuple(tags)))
                chars, tags = [], []
            continue
        match = _LINE.match(line)
        if match is None:
            raise DataError(
                f"expected '<char> <tag>' with tag O, B-TYPE or I-TYPE, got {line!r}", file=file, line=lineno
            )
        chars.append(match.group(1))
        tags.append(match.group(2))
    if chars:
        sentences.append(Sentence(tuple(chars), tuple(tags)))
    return sentences


def read_bio(path: str | Path) -> list[Sentence]:
    """Read a BIO file (UTF-8, with or without BOM)."""
    path = Path(path)
    try:
        with path.open(encoding="utf-8-sig") as fh:
            return parse_bio(fh, file=str(path))
    except UnicodeDecodeError as exc:
        raise DataError(f"not UTF-8 text: {exc.reason}", file=str(path)) from exc


def spans(tags: Sequence[str]) -> list[tuple[str, int, int]]:
    """``(type, start, end)`` of every entity in a BIO sequence.

    An ``I-X`` that does not continue an ``X`` entity starts a new one (the conventional, conlleval reading).
    """
    out: list[tuple[str, int, int]] = []
    kind: str | None = None
    start = 0
    for i, tag in enumerate(tags):
        prefix, _, label = tag.partition("-")
        if prefix == "I" and kind == label:
            continue
        if kind is not None:
            out.append((kind, start, i))
        kind, start = (label, i) if prefix in ("B", "I") and label else (None, i)
    if kind is not None:
        out.append((kind, start, len(tags)))
    return out


def entities(text: str, tags: Sequence[str], offsets: Sequence[int] | None = None) -> list[Entity]:
    """Entities of a tagged text; ``offsets[i]`` maps character ``i`` back to a position in ``text``."""
    if offsets is None:
        return [Entity(kind, text[s:e], s, e) for kind, s, e in spans(tags)]
    found = []
    for kind, s, e in spans(tags):
        start, end = offsets[s], offsets[e - 1] + 1
        found.append(Entity(kind, text[start:end], start, end))
    return found


def to_tags(n: int, found: Iterable[tuple[str, int, int]]) -> list[str]:
    """BIO tags of length ``n`` for non-overlapping ``(type, start, end)`` spans."""
    tags = ["O"] * n
    for kind, s, e in found:
        tags[s] = f"B-{kind}"
        for i in range(s + 1, e):
            tags[i] = f"I-{kind}"
    return tags


# ---- normalisation (one character in, one character out, so offsets survive)

_FULLWIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


def to_halfwidth(text: str) -> str:
    """Fold full-width ASCII forms and the ideographic space to half-width, character for character."""
    return text.translate(_FULLWIDTH)


def normalize_chars(text: str | Sequence[str]) -> list[str]:
    """Half-width, lower-case characters, one per input character (what features and lexicons compare)."""
    return [c.lower() for c in to_halfwidth("".join(text))]


# ---- seen / unseen splits


def split_seen(sentences: Sequence[Sentence], reference: Iterable[Sentence]) -> tuple[list[Sentence], list[Sentence]]:
    """``(seen, unseen)``: sentences whose text does / does not occur word for word in ``reference``."""
    known = {s.text for s in reference}
    seen = [s for s in sentences if s.text in known]
    unseen = [s for s in sentences if s.text not in known]
    return seen, unseen


def bucket(text: str, n: int, seed: int = 0) -> int:
    """A stable bucket in ``range(n)`` for a text (the same text always lands in the same bucket)."""
    return zlib.crc32(f"{seed}\x00{text}".encode()) % n


def halves(sentences: Sequence[Sentence], seed: int = 0) -> tuple[list[Sentence], list[Sentence]]:
    """Split sentences into two stable halves by a hash of their text (for tune / held-out checks)."""
    first = [s for s in sentences if bucket(s.text, 2, seed) == 0]
    second = [s for s in sentences if bucket(s.text, 2, seed) == 1]
    return first, second
