"""Typos in English catalog words ("yelow", "rainboots", "hoodei") corrected before the slots are read.

Only words the NLU does not know are touched, and only towards the lexicon's own words (product types, colours,
materials, brands): a word one edit away from exactly one lexicon word (a deletion, insertion, substitution or
swap of neighbours; Norvig's candidate method), or two lexicon words typed without their space. Why our own
code: the lookup is a few dictionary probes per unknown word against a few thousand lexicon words, and it must
never correct towards a word outside the catalog, which a general spelling library would.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_TOKEN = re.compile(r"[a-z]+")
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
#: Shorter words get only a missing letter: at four letters other edits reach too many real words.
MIN_EDIT_LENGTH = 5


def _edits1(word: str) -> set[str]:
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = [a + b[1:] for a, b in splits if b]
    swaps = [a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1]
    replaces = [a + c + b[1:] for a, b in splits if b for c in _LETTERS]
    inserts = [a + c + b for a, b in splits for c in _LETTERS]
    return set(deletes + swaps + replaces + inserts)


#: Chat English that is one edit from a catalog word but no typo of it: contractions typed without their
#: apostrophe ("shes" is not "shoes") and everyday words near catalog words ("metro" is not "retro").
NOT_TYPOS = frozenset(
    [
        "shes",
        "hes",
        "its",
        "thats",
        "whats",
        "wheres",
        "theres",
        "heres",
        "hows",
        "whos",
        "lets",
        "dont",
        "cant",
        "wont",
        "isnt",
        "arent",
        "wasnt",
        "werent",
        "didnt",
        "doesnt",
        "hasnt",
        "havent",
        "couldnt",
        "wouldnt",
        "shouldnt",
        "youre",
        "theyre",
        "were",
        "ive",
        "youve",
        "weve",
        "theyve",
        "ill",
        "youll",
        "shell",
        "hell",
        "metro",
        "mums",
        "moms",
        "dads",
        "shoe",
        "ones",
        "bits",
        "lots",
    ]
)


class Speller:
    """Corrects unknown ASCII words of a normalised message to lexicon words."""

    def __init__(self, surfaces: Iterable[str], known: Iterable[str] = ()) -> None:
        """``surfaces``: the lexicon's surface forms (ASCII ones are used); ``known``: words never corrected."""
        self.words: set[str] = set()
        self.joined: dict[str, str] = {}
        for surface in surfaces:
            if not surface.isascii():
                continue
            parts = surface.split()
            if len(parts) == 1 and surface.isalpha() and len(surface) >= MIN_EDIT_LENGTH - 1:
                self.words.add(surface)
            elif len(parts) == 2 and all(p.isalpha() for p in parts):
                self.joined.setdefault("".join(parts), surface)
        self.known = {w for w in known if w.isascii()} | self.words | NOT_TYPOS

    def correct_word(self, word: str) -> str | None:
        """The lexicon word ``word`` was meant to be, or None (known, too short, or ambiguous)."""
        if word in self.known:
            return None
        if word in self.joined:
            return self.joined[word]
        if word.endswith("s") and word[:-1] in self.joined:
            return self.joined[word[:-1]] + "s"
        if len(word) < MIN_EDIT_LENGTH - 1:
            return None
        if len(word) < MIN_EDIT_LENGTH:  # four letters: only a missing letter ("blak", "gren")
            splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
            candidates = sorted({a + c + b for a, b in splits for c in _LETTERS} & self.words)
        else:
            candidates = sorted(c for c in _edits1(word) if c in self.words and len(c) >= MIN_EDIT_LENGTH - 1)
            if len(word) == MIN_EDIT_LENGTH:  # five letters: a changed letter reaches real words ("metro"/"retro")
                candidates = [c for c in candidates if len(c) != len(word) or sorted(c) == sorted(word)]
        candidates = [c for c in candidates if c != word[:-1] or not word.endswith("s")]  # a plural is no typo
        if len(candidates) > 1:  # ambiguous: keep those that start like the typo, else give up
            candidates = [c for c in candidates if c[0] == word[0]]
        return candidates[0] if len(candidates) == 1 else None

    def correct(self, text: str) -> str:
        """``text`` with its correctable words replaced (unchanged when nothing is corrected)."""
        out, last = [], 0
        for m in _TOKEN.finditer(text):
            fixed = self.correct_word(m.group())
            if fixed is not None:
                out.extend((text[last : m.start()], fixed))
                last = m.end()
        return "".join(out) + text[last:] if out else text
