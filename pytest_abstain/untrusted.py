"""Text from outside (replies, error bodies, suite files) made safe where it enters (pure).

A model's reply or an endpoint's error body can hold anything: a lone UTF-16 surrogate
(the valid JSON escape "\\ud800") that no file, report or xdist channel can encode, terminal
escape sequences that clear the screen or retitle the window when an error is printed, or
megabytes. Each is neutralised once, at the boundary, so nothing downstream has to care.
"""

from __future__ import annotations

import re

#: A shorter value is not taken for a secret: API keys of local servers are placeholders
#: ("EMPTY", "ollama"), and short values ("true", "us-east-1") turn up in any text by chance.
MIN_SECRET_CHARS = 8
#: Longer error texts are cut: an error line is read by a person, never parsed.
MAX_ERROR_CHARS = 2_000

_SURROGATES = re.compile("[\ud800-\udfff]")
# ANSI sequences are dropped whole (not just their ESC) so no "[2J" residue is graded or shown:
# CSI (ESC [ params final), OSC (ESC ] text, ended by BEL or ESC \), and two-char escapes.
# Every repetition is bounded or over a class that cannot overlap its neighbour: linear.
_ESCAPES = re.compile(
    r"\x1b\[[0-?]{0,64}[ -/]{0,16}[@-~]?"
    r"|\x1b\][^\x07\x1b]{0,4096}(?:\x07|\x1b\\)?"
    r"|\x1b[@-_]?"
    r"|\x9b[0-?]{0,64}[ -/]{0,16}[@-~]?"
)
# C0 and C1 controls (ESC and CR among them) and DEL; tab and line feed are text.
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def encodable(text: str) -> str:
    """`text` with every lone surrogate replaced by U+FFFD, so UTF-8 can encode it."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return _SURROGATES.sub("\ufffd", text)
    return text


def plain(text: str) -> str:
    """`text` encodable, without terminal escape sequences or control characters.

    Line breaks are kept as line feeds (a carriage return would let the text overwrite the
    line it is printed on); every other control character becomes U+FFFD, visibly.
    """
    text = encodable(text)
    if _CONTROLS.search(text) is None:
        return text  # the common case, a clean reply: one scan and no copy
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _ESCAPES.sub("", text)
    return _CONTROLS.sub("\ufffd", text)


def clipped(text: str, limit: int) -> str:
    """`text` cut to about `limit` characters, saying how long it was."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text):,} characters in all)"


def error_text(text: str) -> str:
    """An error reason from outside, safe to print, store and send across processes."""
    return clipped(plain(text), MAX_ERROR_CHARS)
