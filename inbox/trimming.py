"""The reply without the quoted history below it: what the customer actually wrote."""

import re

# Lines where the quoted history begins, in the common clients' wording.
_ON_WROTE = re.compile(r"^\s*On\b.*\bwrote:\s*$", re.IGNORECASE)
_ON_START = re.compile(r"^\s*On\b.+", re.IGNORECASE)
_ORIGINAL = re.compile(r"^\s*-{2,}\s*(Original Message|Forwarded message)\s*-{2,}", re.IGNORECASE)
_OUTLOOK_FROM = re.compile(r"^\s*\*?From:\*?\s+\S", re.IGNORECASE)
_OUTLOOK_NEXT = re.compile(r"^\s*\*?(Sent|Date|To|Subject|Cc):\*?\s", re.IGNORECASE)
_SEPARATOR = re.compile(r"^\s*_{10,}\s*$")


def _history_starts(lines: list[str], i: int) -> bool:
    line = lines[i]
    if _ON_WROTE.match(line) or _ORIGINAL.match(line):
        return True
    # "On Mon, 2 Mar 2026 at 10:00, Ann <ann@x.com>" wrapped before "wrote:".
    if _ON_START.match(line) and i + 1 < len(lines) and lines[i + 1].strip().endswith("wrote:"):
        return True
    # Outlook: "From: ..." followed by "Sent: ..." (or Date/To/Subject) within two lines.
    if _OUTLOOK_FROM.match(line):
        return any(_OUTLOOK_NEXT.match(nxt) for nxt in lines[i + 1 : i + 3])
    return bool(_SEPARATOR.match(line)) and any(
        _OUTLOOK_FROM.match(nxt) for nxt in lines[i + 1 : i + 3]
    )


def trim_quoted(text: str) -> str:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept = []
    for i, line in enumerate(lines):
        if _history_starts(lines, i):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line)
    return "\n".join(kept).strip()
