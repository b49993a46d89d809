"""Release headings: which heading texts name a version, and how each one is written.

A release heading starts with a version, whatever decorates it: a link or brackets, bold, `v`,
`Version`/`Release` or a product name the file uses consistently, `<small>`, an empty anchor, a
date before it. What follows may hold a date (in any common format), `[YANKED]`,
`(unreleased)` or other words. The heading's text is kept as a template (`[{version}]({url}) -
{date}`) so a new heading can be written exactly the same way.
"""

from __future__ import annotations

import collections
import re
from collections.abc import Iterable
from dataclasses import dataclass

from release.core.changelog.versions import VERSION

UNRELEASED = re.compile(
    r"^(?:\*\*)?\[?\s*unreleased\s*\]?(?:\([^)]*\))?(?:\*\*)?(?=$|[\s:\u2013\u2014-])",
    re.IGNORECASE,
)
# Just the marker: `[Unreleased]`, `Unreleased`, `[Unreleased](url)`, not `Unreleased changes in X`
UNRELEASED_ONLY = re.compile(
    r"^(?:\*\*)?\[?\s*unreleased\s*\]?(?:\([^)]*\))?(?:\*\*)?\s*$", re.IGNORECASE
)
_ISO = r"\d{4}-\d{2}-\d{2}"
_LEAD = (
    r"(?:<small>\s*|<a\s[^>]*>\s*</a>\s*|\[\s*|\*\*|(?:version|release)\s+"
    rf"|{_ISO}\s*[,:\u2013\u2014-]?\s*)*"
)
_END = r"(?=$|[\s\]\)\(,:*</_\u2013\u2014]|\.(?:\s|$))"
_HEAD = re.compile(rf"^(?P<lead>{_LEAD})(?P<v>[vV])?(?P<ver>{VERSION}){_END}", re.IGNORECASE)
# `Apollo Client 3.6.10`, `Mypy 2.4 (date)`: one to three capitalised words, then a version.
_WORDS = re.compile(
    rf"^(?P<word>[A-Z][\w.-]*(?:\s+[A-Z][\w.-]*){{0,2}})\s+\(?[vV]?{VERSION}\)?"
    r"\s*(?:\(.*\)|[-\u2013\u2014/:].*)?$"
)
_MAYBE = re.compile(r"\d\.\d|unreleased", re.IGNORECASE)
_NAMED = re.compile(r"^[\w.-]+(?:\s+[\w.-]+){0,2}\s+(?=[vV]?\d)")
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
DATE = re.compile(
    rf"(?<![\w.])(?:{_ISO}|\d{{4}}/\d{{2}}/\d{{2}}"
    rf"|{_MONTH}\s+{_DAY},?\s+\d{{4}}|{_DAY}\s+{_MONTH},?\s+\d{{4}}"
    r"|\d{1,2}[./]\d{1,2}[./]\d{4})(?![\w.])",
    re.IGNORECASE,
)
_INLINE_URL = re.compile(r"\]\((?P<url><[^>]*>|[^)\s]*)(?:\s+[^)]*)?\)")


@dataclass(frozen=True)
class Title:
    """What a release heading's text says and how it is written."""

    version: str | None  # as written, no leading `v`; None for [Unreleased]
    date: str | None  # as written, when the heading holds a date
    url: str | None  # an inline link's destination
    label: str | None  # `1.2.3` of a reference-style `[1.2.3]` heading
    template: str  # the text with `{version}`, `{date}` and `{url}` in place (str.format)


def product_prefix(titles: Iterable[str]) -> str | None:
    """The product name the file puts before its versions (`Apollo Client`), if it does so at
    least twice."""
    words = collections.Counter(m["word"] for t in titles if (m := _WORDS.match(t)))
    for word, count in words.most_common(1):
        if count >= 2:
            return str(word)
    return None


def read_title(title: str, product: str | None = None) -> Title | None:
    """The heading's version and how it is written; None when it names no version."""
    if not _MAYBE.search(title):  # `Added`, `Bug Fixes`: most headings, skipped fast
        return None
    if UNRELEASED.match(title):
        return Title(None, None, _inline_url(title), None, _escape(title))
    text = title
    skipped = 0
    if product and title.startswith(product + " "):
        skipped = len(product) + 1
        text = title[skipped:]
    found = _HEAD.match(text)
    if found is None and (named := _NAMED.match(title)) is not None:
        # `widget 1.2.0 (2026-05-01)`, towncrier's default: a name used once, then a version
        # and a date, is a release heading too.
        rest = title[named.end() :]
        found = _HEAD.match(rest)
        if found is not None and DATE.search(rest, found.end("ver")) is not None:
            skipped, text = named.end(), rest
        else:
            found = None
    if found is None:
        return None
    start, end = found.start("ver") + skipped, found.end("ver") + skipped
    version = title[start:end]
    url = _inline_url(title[end:]) if "[" in found["lead"] else None
    label = _label(title, found["lead"], skipped)
    parts: list[tuple[int, int, str]] = [(start, end, "{version}")]
    date_found = DATE.search(title, 0, found.start("v" if found["v"] else "ver") + skipped)
    if date_found is None:
        date_found = DATE.search(title, end)
    date = None
    if date_found is not None and not _inside_url(title, date_found.start()):
        date = date_found[0]
        parts.append((date_found.start(), date_found.end(), "{date}"))
    if url:
        at = title.index(url, end)
        parts.append((at, at + len(url), "{url}"))
    template, pos = [], 0
    for a, b, field in sorted(parts):
        template += [_escape(title[pos:a]), field]
        pos = b
    template.append(_escape(title[pos:]))
    return Title(version, date, url, label, "".join(template))


def _escape(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def _inline_url(rest: str) -> str | None:
    found = _INLINE_URL.search(rest)
    return found["url"].strip("<>") if found and found["url"] else None


def _inside_url(title: str, at: int) -> bool:
    opened = title.rfind("](", 0, at)
    return opened >= 0 and title.find(")", opened) > at


def _label(title: str, lead: str, skipped: int) -> str | None:
    """`1.2.3` for `[1.2.3] - ...`: a heading that is a reference to a link definition."""
    opened = title.find("[", skipped, skipped + len(lead) + 1)
    if opened < 0:
        return None
    closed = title.find("]", opened)
    if closed < 0 or title[closed + 1 : closed + 2] in ("(", "["):
        return None
    return title[opened + 1 : closed]


_MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)
_NUMERIC = re.compile(
    r"^(?:(?P<y1>\d{4})(?P<s1>[/.-])(?P<m1>\d{1,2})(?P=s1)(?P<d1>\d{1,2})"
    r"|(?P<a>\d{1,2})(?P<s2>[./])(?P<b>\d{1,2})(?P=s2)(?P<y2>\d{4}))$"
)
_WORDY = re.compile(
    rf"^(?:(?P<mon1>{_MONTH})(?P<gap1>\s+)(?P<day1>{_DAY})"
    rf"|(?P<day2>{_DAY})(?P<gap2>\s+)(?P<mon2>{_MONTH}))(?P<rest>,?\s+)(?P<year>\d{{4}})$",
    re.IGNORECASE,
)


def restyle_date(iso: str, like: str | None) -> str:
    """`iso` (YYYY-MM-DD) written the way `like` writes its date (`July 2, 2025`, `28 March
    2021`, `6th December, 2024`, `2025/07/02`, `02.07.2025`); `iso` itself when `like` is None,
    ISO or a form this does not know."""
    year, month, day = (int(part) for part in iso.split("-"))
    if not like:
        return iso
    if found := _NUMERIC.match(like):
        if found["y1"]:
            sep, m, d = found["s1"], found["m1"], found["d1"]
            return f"{year}{sep}{_pad(month, m, d)}{sep}{_pad(day, d, m)}"
        a, b, sep = found["a"], found["b"], found["s2"]
        day_first = int(a) > 12 or (int(b) <= 12 and sep == ".")
        first, second = (day, month) if day_first else (month, day)
        return f"{_pad(first, a, b)}{sep}{_pad(second, b, a)}{sep}{year}"
    if found := _WORDY.match(like):
        mon = found["mon1"] or found["mon2"]
        written_day = found["day1"] or found["day2"]
        name = _month(month, mon)
        digits = re.match(r"\d+", written_day)[0]  # type: ignore[index]
        number = f"{day:02d}" if digits.startswith("0") else str(day)
        if not written_day.isdigit():
            number += _ordinal(day)
        rest = found["rest"]
        if found["mon1"]:
            return f"{name}{found['gap1']}{number}{rest}{year}"
        return f"{number}{found['gap2']}{name}{rest}{year}"
    return iso


def _pad(value: int, like: str, sibling: str) -> str:
    """`value` zero-padded when the file pads: `07` does, `7` does not, and `22` says nothing,
    so its sibling (the month next to the day) decides, padding when neither tells."""
    if len(like) == 1:
        padded = False
    elif like.startswith("0"):
        padded = True
    else:
        padded = len(sibling) != 1
    return f"{value:02d}" if padded else str(value)


def _ordinal(day: int) -> str:
    if 10 <= day % 100 <= 20:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")


def _month(month: int, like: str) -> str:
    """Month `month` named the way `like` names its month: `July`, `Jul`, `Jul.`, `Sept`, `JUL`."""
    bare = like.rstrip(".")
    written = next(m for m in _MONTHS if m.lower().startswith(bare.lower()[:3]))
    full = _MONTHS[month - 1]
    if bare.lower() == written.lower() and len(bare) > 3:
        name = full
    else:
        name = full[:4] if bare.lower() == "sept" and month == 9 else full[:3]
    if bare.isupper():
        name = name.upper()
    elif bare.islower():
        name = name.lower()
    return name + ("." if like.endswith(".") else "")
