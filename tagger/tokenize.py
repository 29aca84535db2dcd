"""Fast rule-based sentence splitter and word tokenizer for raw English text.

The style follows CoNLL-2003 English (Reuters, Penn-Treebank-like): punctuation is split off,
clitics are split PTB-style ("don't" -> "do" "n't", "John's" -> "John" "'s"), abbreviations and
initials keep their period ("U.S.", "Mr.", "J."), numbers keep their internal separators
("1,000", "3.5", "1996-08-22"), hyphenated words stay whole ("German-born"), URLs and e-mail
addresses are single tokens.

All tokens come from one compiled regular expression scanned with ``finditer``. Every
non-whitespace character of the input belongs to exactly one token, tokens never contain
whitespace (``str.isspace``) and ``text[t.start:t.end] == t.text`` always holds.

Sentences end after ". ! ? ..." (and closing quotes / brackets right after them) when whitespace
and a plausible sentence start follow, never after an abbreviation or initial, and at blank lines.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from tagger.types import Token

__all__ = ["tokenize", "tokenize_words"]

# Combining marks and joiners that continue a word (best effort: the main combining blocks,
# whole Indic / South-East Asian blocks minus the dandas, emoji modifiers and selectors).
_MARKS = (
    "\u0300-\u036f\u0483-\u0489\u0591-\u05bd\u05bf\u05c1\u05c2\u05c4\u05c5\u05c7"
    "\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06dc\u06df-\u06e4\u06e7\u06e8\u06ea-\u06ed"
    "\u0711\u0730-\u074a\u07a6-\u07b0\u0816-\u082d\u0859-\u085b\u0898-\u089f\u08ca-\u08ff"
    "\u0900-\u0963\u0966-\u0dff\u0e31\u0e34-\u0e3a\u0e47-\u0e4e\u0eb1\u0eb4-\u0ebc\u0ec8-\u0ece"
    "\u0f18\u0f19\u0f35\u0f37\u0f39\u0f3e\u0f3f\u0f71-\u0f84\u0f86\u0f87\u0f8d-\u0fbc\u0fc6"
    "\u102b-\u103e\u1056-\u1059\u105e-\u1060\u1062-\u1064\u1067-\u106d\u1071-\u1074"
    "\u1082-\u108d\u108f\u109a-\u109d\u17b4-\u17d3\u17dd\u180b-\u180d\u180f"
    "\u1ab0-\u1aff\u1b00-\u1b04\u1b34-\u1b44\u1dc0-\u1dff\u200c\u200d\u20d0-\u20f0"
    "\u2cef-\u2cf1\u2de0-\u2dff\u302a-\u302f\u3099\u309a\ua66f-\ua672\ua674-\ua67d"
    "\ua8e0-\ua8f1\ufb1e\ufe00-\ufe0f\ufe20-\ufe2f"
    "\U0001f3fb-\U0001f3ff\U000e0020-\U000e007f\U000e0100-\U000e01ef"
)
_W = rf"[\w{_MARKS}]"  # a word character
_APOS = "['\u2019\u00b4]"  # apostrophe, right single quote, acute accent (web text)
_CLITIC = r"(?i:s|m|d|ll|re|ve)"

# Abbreviations that keep their period (matched case-sensitively; title-case ones also in
# upper case). Single letters and dotted letter sequences ("U.S.", "e.g.") are handled apart.
_TITLE_ABBREVIATIONS = [
    *("Mr", "Mrs", "Ms", "Messrs", "Mme", "Mlle", "Dr", "Prof", "Sr", "Jr", "St", "Mt", "Ft"),
    *("Gen", "Col", "Lt", "Maj", "Capt", "Cmdr", "Sgt", "Cpl", "Pvt", "Adm", "Gov", "Sen", "Rep"),
    *("Rev", "Hon", "Pres", "Supt", "Insp", "Inc", "Corp", "Ltd", "Co", "Cos", "Bros", "Assn"),
    *("Dept", "Univ", "Intl", "Jan", "Feb", "Mar", "Apr", "Jun", "Jul", "Aug", "Sep", "Sept"),
    *("Oct", "Nov", "Dec", "Mon", "Tue", "Tues", "Wed", "Thu", "Thur", "Thurs", "Fri", "Sat"),
    *("Ave", "Blvd", "Rd", "Hwy", "Ala", "Ariz", "Ark", "Calif", "Colo", "Conn", "Fla", "Ga"),
    *("Kan", "Kans", "Ky", "Md", "Mich", "Minn", "Mont", "Neb", "Nev", "Okla", "Penn", "Tenn"),
    *("Tex", "Va", "Vt", "Wis", "Wyo", "Ont", "Que", "Sask"),
]
_LOWER_ABBREVIATIONS = [
    *("etc", "vs", "v", "approx", "esp", "incl", "cf", "viz", "al", "vol", "pp", "fig", "dept"),
    *("est", "misc", "ca", "ibid", "pg", "lb", "lbs", "oz", "ft", "sq", "hr", "hrs", "yr", "yrs"),
]


def _trie_pattern(words: Iterable[str]) -> str:
    """Return a regex alternation for ``words`` factored as a prefix trie (fast in ``re``)."""
    trie: dict[str, dict] = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def build(node: dict[str, dict]) -> str:
        branches = [re.escape(char) + build(child) for char, child in sorted(node.items()) if char]
        optional = "" in node
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if optional:
            return body + "?" if len(branches) == 1 and len(body) == 1 else f"(?:{body})?"
        return body

    return build(trie)


_ABBREVIATIONS = _trie_pattern(
    _TITLE_ABBREVIATIONS + [a.upper() for a in _TITLE_ABBREVIATIONS] + _LOWER_ABBREVIATIONS
)

_NOT_FINAL = r"(?![\s\"'\u201d\u2019)\]]*\Z)"  # not at the very end of the text (bar closers)

_TOKEN_ALTERNATIVES = "|".join(
    [
        # Fast path for the commonest tokens: plain words / integers followed by a separator
        # (not words ending in "nt", "na", "ta", "ot", which may need the split below).
        r"[A-Za-z][a-z]*(?<!n[at])(?<!ta)(?<!ot)(?=[\s,;!?)\"])|\d+(?=\s)",
        # PTB splits without an apostrophe: "can" "not", "gon" "na", "got" "ta", "do" "nt".
        rf"(?=[cCgGwWdDiIaAhHsS])(?:[cC]an(?=not(?!{_W}))|[gGwW][oa]n(?=na(?!{_W}))"
        rf"|[gG]ot(?=ta(?!{_W}))"
        rf"|(?i:do|does|did|is|was|are|were|have|has|had|could|would|should|ai)(?=nt(?!{_W})))",
        # URLs: scheme or www., trailing punctuation left out.
        r"(?:[hH][tT][tT][pP][sS]?://|[fF][tT][pP]://|www\.|mailto:)"
        r"[^\s<>\"'\u201c\u201d\u2018\u2019()\[\]{}]*"
        r"[^\s<>\"'\u201c\u201d\u2018\u2019()\[\]{}.,;:!?]",
        # Known abbreviations with their period ("No." only before a number), then initials and
        # dotted abbreviations ("J.", "U.S.", "e.g."); at the very end of the text the period is
        # split off as the sentence's full stop, as in CoNLL-2003 and EWT ("Corp" ".").
        rf"(?:{_ABBREVIATIONS}|[Nn][Oo]s?(?=\.\s?\d))\.{_NOT_FINAL}",
        rf"(?:[A-Z]\.(?:[A-Za-z]\.)*|[a-z]\.(?:[A-Za-z]\.)+)(?!{_W}){_NOT_FINAL}",
        # List numbers at the start of a line: "1. Michael Johnson".
        r"(?<![^\n])\d{1,3}\.(?=[^\S\n]|$)",
        # Numbers with a leading sign or point: "+99", ".500", "+44-171-542".
        r"(?<!\w)[+.]\d+(?:[-.,:/]\d+)*",
        # Clitics: "n't", "'s", "'m", "'d", "'ll", "'re", "'ve"; decades: "'73", "'90s".
        rf"(?i:n{_APOS}t)(?!{_W})",
        rf"(?<={_W}){_APOS}{_CLITIC}(?!{_W})",
        rf"(?<!\S){_APOS}\d\ds?(?!{_W})",
        # Word before "n't": "do" in "don't", "ca" in "can't".
        rf"{_W}+?(?=(?i:n{_APOS}t)(?!{_W}))",
        # Slashed abbreviations ("b/c", "w/o", "L/C"); currencies with a country prefix ("US$").
        rf"(?<!\S)[A-Za-z]/[A-Za-z]{{1,3}}(?!{_W}|/)",
        r"[A-Z]{1,3}\$",
        # Words: letters/digits joined by hyphens, "&", "@", points, apostrophes (not clitics)
        # and ",:/" between digits: "German-born", "AT&T", "a@b.com", "O'Neill", "1,000"; also
        # shortened e-mail addresses as in mail archives: "jo...@example.com".
        rf"{_W}+(?:(?:[-&.]|(?:\.\.\.)?@|{_APOS}(?!{_CLITIC}(?!{_W}))|(?<=\d)[,:/](?=\d)){_W}+)*",
        # Sentence-final punctuation and ellipses (runs kept together).
        r"(?P<term>[.!?\u2026]+)",
        # Emoticons standing alone: ":)", ";-)", ":D", "(:".
        rf"(?<!\S)(?:[:;=]-?[()\[\]DPp/|]|\(:)(?!{_W})",
        # Dash / star / equals rules, PTB double quotes.
        r"-{2,}|\*{2,}|={2,}|''|``",
        # Flag emoji (regional indicator pairs), then any other single character with the
        # marks, modifiers and zero-width joiner sequences that follow it.
        "[\U0001f1e6-\U0001f1ff]{2}",
        rf"\S(?:\u200d\S|[{_MARKS}])*",
    ]
)
# Leading whitespace is consumed possessively so that it is skipped in one step; group 1 is the
# token (``_TERM_GROUP`` marks sentence-final punctuation).
_TOKEN_RE = re.compile(rf"\s*+({_TOKEN_ALTERNATIVES})")
_TERM_GROUP = _TOKEN_RE.groupindex["term"]
_TERM_START = frozenset(".!?\u2026")


_CLOSERS = frozenset(['"', "'", "''", "\u201d", "\u2019", ")", "]", "}", "\u00bb"])
_NON_STARTERS = frozenset(",;:.!?)]}%\u2026")
# A lone "." or "?" (abbreviations keep their own period) ends a sentence even before a lowercase
# word, as is common in web text; after "!" ("Yahoo! is") or an ellipsis a non-lowercase start
# is required.
_PLAIN_TERMINALS = frozenset([".", "?"])
_NO_TERMINAL, _TERMINAL_UPPER, _TERMINAL_ANY = 0, 1, 2


def tokenize_words(text: str) -> list[Token]:
    """Split ``text`` into word tokens with character offsets, without sentence splitting."""
    return [Token(m.group(1), m.start(1), m.end()) for m in _TOKEN_RE.finditer(text)]


def _starts_sentence(first: str, after: int) -> bool:
    """Whether a token beginning with ``first`` can start a sentence after terminal ``after``."""
    if first in _NON_STARTERS:
        return False
    return after == _TERMINAL_ANY or not first.islower()


def tokenize(text: str) -> list[list[Token]]:
    """Split ``text`` into sentences, each a list of word tokens with character offsets."""
    sentences: list[list[Token]] = []
    current: list[Token] = []
    prev_end = 0
    # after_terminal: the previous token was sentence-final punctuation (possibly followed by
    # adjacent closing quotes / brackets); _TERMINAL_ANY when even a lowercase word may follow.
    after_terminal = _NO_TERMINAL
    for m in _TOKEN_RE.finditer(text):
        start, end = m.span(1)
        word = m.group(1)
        if current:
            if start != prev_end:  # whitespace in between
                if (after_terminal and _starts_sentence(word[0], after_terminal)) or (
                    start - prev_end > 1 and text.count("\n", prev_end, start) > 1
                ):
                    sentences.append(current)
                    current = []
                after_terminal = _NO_TERMINAL
            elif after_terminal and word not in _CLOSERS:
                after_terminal = _NO_TERMINAL
        current.append(Token(word, start, end))
        if word[0] in _TERM_START and m.start(_TERM_GROUP) >= 0:
            after_terminal = _TERMINAL_ANY if word in _PLAIN_TERMINALS else _TERMINAL_UPPER
        prev_end = end
    if current:
        sentences.append(current)
    return sentences
