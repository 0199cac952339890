"""Text a prompt asks to write: quoted ("'Hi'", „Hallo“) or after "saying", "mit der Aufschrift"."""

from __future__ import annotations

import re

MAX_TEXT = 80

_QUOTED = re.compile(
    r'"([^"]+)"|“([^”]+)”|„([^“”"]+)[“”"]|«([^»]+)»|»([^«]+)«|‚([^‘’]+)[‘’]|‘([^’]+)’'
    r"|(?<!\w)'([^']+)'(?!\w)"
)
_UNQUOTED = re.compile(
    r"\b(?:saying|that says|which says|that reads|with the (?:text|words)|labell?ed"
    r"|titled|captioned|mit der aufschrift|mit dem text|mit den worten|beschriftet mit)"
    r"\s*:?\s+(?!\s*QTEXT)([^,.;!?]+)",
    re.IGNORECASE,
)


def extract_texts(prompt: str) -> tuple[str, list[str]]:
    """Pull out the text to write; leave a `QTEXT` marker where it stood."""
    texts: list[str] = []

    def keep(match: re.Match[str]) -> str:
        found = next(g for g in match.groups() if g is not None).strip()
        if found and len(texts) < 3:
            texts.append(found if len(found) <= MAX_TEXT else found[: MAX_TEXT - 1] + "…")
        return " QTEXT "

    prompt = _QUOTED.sub(keep, prompt)

    def keep_unquoted(match: re.Match[str]) -> str:
        captured = match.group(1)
        first = re.split(r"\s+(?:and|und|on|in|at|auf|im|am|with|mit)\s+", captured, maxsplit=1)
        kept = first[0].split()[:5]
        if kept and len(texts) < 3:
            texts.append(" ".join(kept))
        return " QTEXT " + " ".join(captured.split()[len(kept) :])

    return _UNQUOTED.sub(keep_unquoted, prompt), texts
