"""Release headings: which heading texts name a version, and how each one is written.

A release heading starts with a version, whatever decorates it: a link or brackets, bold, `v`,
`Version`/`Release` or a product name the file uses consistently, `<small>`, an empty anchor, a
date before it. What follows may hold a date (in any common format), `[YANKED]`,
`(unreleased)` or other words. The heading's text is kept as a template (`[{version}]({url}) -
{date}`) so a new heading can be written exactly the same way.
"""

from __future__ import annotations

import collections
import functools
import re
from collections.abc import Iterable
from typing import NamedTuple

from release.core.changelog.versions import VERSION
from release.core.pattern import LazyPattern

# Words that mark a release as not out yet: `1.2.3 (unreleased)` (zest.releaser), `## (0.41.0)
# UNRELEASED`, `### Tool 3.0 (in development)`.
_PENDING = (
    r"unreleased|not\s+(?:yet\s+)?released|to\s+be\s+released|in\s+(?:development|progress)"
    r"|under\s+development|upcoming|unpublished|tb[ad]"
)
PENDING = LazyPattern(rf"(?<![^\W_])(?:{_PENDING})(?![^\W_])", re.IGNORECASE)
# The whole heading naming the next release's notes: `[Unreleased]`, `NEXT (UNRELEASED)`,
# `Latest Changes` (tiangolo's projects), `**UNRELEASED**`, `Upcoming release`.
_NAME_ONLY = (
    r"[\[*_\s]*(?:" + _PENDING + r"|latest\s+changes|next(?:\s+(?:release|version))?"
    r"|upcoming\s+(?:release|changes|version)|unreleased\s+changes|development\s+version)"
    r"[\]*_\s]*(?:\([^)]*\)|\[[^\]]*\])?[*_\s]*$"
)
UNRELEASED = LazyPattern(
    r"^(?:\*\*)?\[?\s*unreleased\s*\]?(?:\([^)]*\))?(?:\*\*)?(?=$|[\s:\u2013\u2014-])"
    rf"|^{_NAME_ONLY}",
    re.IGNORECASE,
)
# Just the marker: `[Unreleased]`, `Unreleased`, `[Unreleased](url)`, not `Unreleased changes in X`
UNRELEASED_ONLY = LazyPattern(
    rf"^(?:\*\*)?\[?\s*unreleased\s*\]?(?:\([^)]*\))?(?:\*\*)?\s*$|^{_NAME_ONLY}", re.IGNORECASE
)
# What UNRELEASED matches most often, told without compiling it.
_UNRELEASED_TITLES = frozenset(
    f"{before}{word}{after}"
    for word in ("Unreleased", "unreleased", "UNRELEASED")
    for before, after in (("", ""), ("[", "]"))
)
_ISO = r"\d{4}-\d{2}-\d{2}"
# Dotless CalVer (`20260107`, PEP 440 reads it): eight digits that are a date.
_CALVER8 = r"(?:19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?:\.\d+)?"
_LEAD = (
    r"(?:<small>\s*|<a\s[^>]*>\s*</a>\s*|\[\s*|\*\*|`|\(|(?:version|release)\s+"
    rf"|{_ISO}\s*[,:\u2013\u2014-]?\s*)*"
)
_END = r"(?=$|[\s\]\)\(,:*</_`\u2013\u2014]|\.(?:\s|$))"
ANY_VERSION = rf"(?:{VERSION}|{_CALVER8})"  # what a heading's version can be
_HEAD = LazyPattern(
    rf"^(?P<lead>{_LEAD})(?P<v>[vV])?(?P<ver>{ANY_VERSION}){_END}", re.IGNORECASE
)
# A second version the same heading names: `3.9.1 and 3.9.2`, `0.11.0 = 0.11.1`.
_ALSO = LazyPattern(rf"\s*(?:and|&|=|,|/|\+)\s*[vV]?(?P<ver>{VERSION}){_END}", re.IGNORECASE)
# The characters after a version that `_ALSO` cannot start at: a `]`, a `)`, a `-` or a `.`
# (`[1.2.3] - date`, `1.2.3 (date)` start with a space, which it can), and the end.
_NO_MORE = frozenset(("", "]", ")", "-", ".", ":"))
# A date (and separator) before a product name: `2025-10-27: tool 16.0.0`.
_DATE_FIRST = LazyPattern(rf"^\[?\s*(?:{_ISO}\s*[,:\u2013\u2014-]?\s*)?")
# `Apollo Client 3.6.10`, `Mypy 2.4 (date)`, `tool 0.3.2`, `2025-10-27: tool 16.0.0`,
# `[kite 0.6.0](url)`, `kite/v1.2.3 (date)`: one to three words, then a version.
_WORDS = LazyPattern(
    rf"^\[?\s*(?:{_ISO}\s*[,:\u2013\u2014-]?\s*)?"
    r"(?P<word>[A-Za-z][\w.-]*(?:\s+[A-Za-z][\w.-]*){0,2})(?:\s+|/)\(?[vV]?"
    rf"{ANY_VERSION}\)?(?:[\s)\](,:/`*_\u2013\u2014-].*)?$"
)
# What a title needs for `_WORDS` to match: the dotted or eight-digit version it ends with.
_NUMBERED = LazyPattern(r"\d\.\d|\d{8}")
# A title, of those joined a line each, that `_WORDS` may match: one that is not bracketed
# (`BRACKETED`) and that is `_NUMBERED`.
_NAMING = LazyPattern(r"^(?!\[\d+(?:\.\d+)+\])[^\n]*?(?:\d\.\d|\d{8})", re.MULTILINE)
_MAYBE = re.compile(rf"\d\.\d|\d{{8}}|{_PENDING}|latest|next|development", re.IGNORECASE)
_NAMED = LazyPattern(r"^\w[\w.-]*\s+(?=[vV]?\d)")  # one name: towncrier writes the project's
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
# Bounded by anything but a letter, digit or dot: `_2026-10-29_` (emphasis) is a date.
DATE = re.compile(
    rf"(?<![^\W_])(?<!\.)(?:{_ISO}|\d{{4}}/\d{{2}}/\d{{2}}"
    rf"|{_MONTH}\s+{_DAY},?\s+\d{{4}}|{_DAY}\s+{_MONTH},?\s+\d{{4}}"
    r"|\d{1,2}[./]\d{1,2}[./]\d{4}|\d{1,2}/\d{1,2}/\d{2})(?![^\W_])(?!\.\d)",
    re.IGNORECASE,
)
# Something that may be a date in a form `DATE` does not know (`27-10-2025`, `Oct 2025`): it
# is the heading's date all the same, so a new heading gets today's, never a copy of it.
_DATEISH = LazyPattern(
    rf"(?<![\w.])(?:\d{{1,4}}[-./]\d{{1,2}}[-./]\d{{1,4}}|{_MONTH}\s+\d{{4}}|\d{{4}}-\d{{2}})"
    r"(?![\w.])",
    re.IGNORECASE,
)
_INLINE_URL = LazyPattern(r"\]\((?P<url><[^>]*>|[^)\s]*)(?:\s+[^)]*)?\)")


# Named tuples, not dataclasses: nothing subclasses them, and one class is built at import
# instead of a dataclass's six generated methods (the same fields, equality, hash and repr).
class Title(NamedTuple):
    """What a release heading's text says and how it is written."""

    version: str | None  # as written, no leading `v`; None for [Unreleased]
    date: str | None  # as written, when the heading holds a date
    url: str | None  # an inline link's destination
    label: str | None  # `1.2.3` of a reference-style `[1.2.3]` heading
    # The text with `{version}`, `{date}` and `{url}` in place (str.format); other spellings
    # of the version in decorations (`{: #kite-v1-2-3 }`) as `{version_dashed}` and the like,
    # a second version (`3.9.1 and 3.9.2`) left out, a pending marker (`(unreleased)`) as the
    # `{date}` the release will carry.
    template: str
    also: tuple[str, ...] = ()  # more versions the heading names (`0.11.0 = 0.11.1`)
    pending: bool = False  # a version marked as not released yet (`1.2.3 (unreleased)`)
    marker: str | None = None  # that mark as written (`unreleased`, `UNRELEASED`)


class TitleStyle(NamedTuple):
    """What a file's headings share, learned from all of them: the product name it puts before
    its versions (`Apollo Client`, `tool`), if any."""

    product: str | None = None


def learn_style(titles: Iterable[str]) -> TitleStyle:
    """The style of a file's heading texts (levels 1 to 3, ATX or setext or reST titles)."""
    return TitleStyle(product_prefix(titles))


def product_prefix(titles: Iterable[str]) -> str | None:
    """The product name the file puts before its versions (`Apollo Client`), if it does so at
    least twice."""
    titles = titles if isinstance(titles, list) else list(titles)
    distinct = dict.fromkeys(titles)
    joined = "\n".join(distinct)  # each distinct title, a line each (none holds a "\n")
    if joined.count("\n") == len(distinct) - 1 and _NAMING.search(joined) is None:
        return None  # no title names a version as `_WORDS` reads one
    # Each distinct title matched once: `Added` and `Fixed` head thousands of sections.
    words: collections.Counter[str] = collections.Counter()
    for title, count in collections.Counter(titles).items():
        # `[1.2.3] - date` starts with no word, `Added` names no version: neither is matched
        if BRACKETED.match(title) or not _NUMBERED.search(title):
            continue
        if found := _WORDS.match(title):
            words[found["word"]] += count
    if words:  # the most common, the first seen of equals (most_common(1), without heapq)
        word, count = max(words.items(), key=lambda item: item[1])
        if count >= 2 and not _HEAD.match(word + " 1.0"):  # `Version`, `Release`: a lead
            return str(word)
    return None


# The commonest release heading, `[1.2.3] - 2026-12-03` (Keep a Changelog): digits and dots in
# brackets at the very start. `read_version` reads that one the same whatever follows the `]`
# (no lead but the `[`, no suffix, no second version can follow it), except when the file's
# product name would start right after the `[` (`read_version_fast`).
BRACKETED = re.compile(r"\[(\d+(?:\.\d+)+)\]")
# Dotted numbers: a version as written, whatever else `ANY_VERSION` would also take.
PLAIN_VERSION = re.compile(r"\d+(?:\.\d+)+")


def read_version_fast(
    title: str, product: str | None
) -> tuple[str | None, tuple[str, ...]] | None:
    """`read_version(title, product)`, the bracketed version read without its patterns."""
    found = BRACKETED.match(title)
    if found is not None and not (product and title.startswith(product, 1)):
        return found[1], ()
    return read_version(title, product)


# Titles are read again and again: `release` reads the changelog before and after the roll,
# whose headings are the same but one. Title values are frozen, so they can be shared.
@functools.lru_cache(maxsize=1 << 14)
def read_version(
    title: str, style: TitleStyle | str | None = None
) -> tuple[str | None, tuple[str, ...]] | None:
    """What `read_title(title, style)` says of the version, at a fraction of its cost: the
    version (None for [Unreleased]) and the more versions it names; None when it names none."""
    found = _locate(title, style)
    if found is None:
        return None
    if isinstance(found, bool):
        return None, ()
    start, end = found[0], found[1]
    return title[start:end], tuple(m["ver"] for m in _more(title, end))


class _Located(NamedTuple):
    """Where a title's version is, as `_HEAD` reads it."""

    start: int  # of the version, in the title
    end: int
    lead: str  # what `_HEAD` read before it (`[`, `**`, `Version `)
    before: int  # where the `v` before the version is, else its start
    skipped: int  # how much of the title is before the text `_HEAD` read (a product name)


# Shared by read_version (every heading) and read_title (each section built): one search each.
@functools.lru_cache(maxsize=1 << 14)
def _locate(title: str, style: TitleStyle | str | None) -> _Located | bool | None:
    """Where the title's version is; True for an [Unreleased] heading; None when it names no
    version."""
    product = style.product if isinstance(style, TitleStyle) else style
    fast = BRACKETED.match(title)
    if fast is not None and not (product and title.startswith(product, 1)):
        return _Located(1, fast.end(1), "[", 1, 0)  # what `_HEAD` reads (see BRACKETED)
    if title in _UNRELEASED_TITLES:  # what `_MAYBE` and UNRELEASED would say
        return True
    if not _MAYBE.search(title):  # `Added`, `Bug Fixes`: most headings, skipped fast
        return None
    if UNRELEASED.match(title):
        return True
    text = title
    skipped = 0
    if product:
        at = _DATE_FIRST.match(title).end()  # type: ignore[union-attr]
        if title.startswith(product, at) and title[at + len(product) : at + len(product) + 1] in (
            " ", "/"
        ):
            skipped = at + len(product) + 1
            text = title[skipped:]
    found = _HEAD.match(text)
    if found is None and (named := _NAMED.match(title)) is not None:
        # `widget 1.2.0 (2026-05-01)`, towncrier's default: one name used once, then a version
        # and a date, is a release heading too (`Bug fixes - v1.0.2 (date)` is not).
        rest = title[named.end() :]
        found = _HEAD.match(rest)
        if found is not None and DATE.search(rest, found.end("ver")) is not None:
            skipped, text = named.end(), rest
        else:
            found = None
    if found is None:
        return None
    before = found.start("v" if found["v"] else "ver") + skipped
    return _Located(
        found.start("ver") + skipped, found.end("ver") + skipped, found["lead"], before, skipped
    )


def _more(title: str, end: int) -> list[re.Match[str]]:
    """The more versions after the one ending at `end` (`3.9.1 and 3.9.2`)."""
    if title[end : end + 1] in _NO_MORE:  # what `_ALSO` cannot start at: most titles
        return []
    found: list[re.Match[str]] = []
    while (more := _ALSO.match(title, found[-1].end() if found else end)) is not None:
        found.append(more)
    return found


@functools.lru_cache(maxsize=1 << 14)
def read_title(title: str, style: TitleStyle | str | None = None) -> Title | None:
    """The heading's version and how it is written; None when it names no version. Pure, over
    the heading's text alone (no `#`s, no underline), so any markup's titles can use it;
    `style` is what the file's headings share (`learn_style`), or its product name."""
    located = _locate(title, style)
    if located is None:
        return None
    if isinstance(located, bool):
        return Title(None, None, _inline_url(title), None, _escape(title))
    start, end, lead, before, skipped = located
    version = title[start:end]
    parts: list[tuple[int, int, str]] = [(start, end, "{version}")]
    also: list[str] = []
    for more in _more(title, end):
        also.append(more["ver"])
        parts.append((more.start(), more.end(), ""))
    after = parts[-1][1]
    url = _inline_url(title[after:]) if "[" in title[:start] else None
    label = _label(title, lead, skipped) if not also else None
    date_found = DATE.search(title, 0, before)
    if date_found is None:
        date_found = DATE.search(title, after) or _DATEISH.search(title, after)
    date = None
    if date_found is not None and not _inside_url(title, date_found.start()):
        date = date_found[0]
        parts.append((date_found.start(), date_found.end(), "{date}"))
    pending = None if date else PENDING.search(title, after)
    if pending is None and not date:
        pending = PENDING.search(title, 0, start)
    if pending is not None:
        parts.append((pending.start(), pending.end(), "{date}"))
    if url:
        at = title.index(url, after)
        parts.append((at, at + len(url), "{url}"))
    template, pos = [], 0
    for a, b, field in sorted(parts):
        template += [_spellings(title[pos:a], version), field]
        pos = b
    template.append(_spellings(title[pos:], version))
    return Title(
        version, date, url, label, "".join(template), tuple(also), pending is not None,
        pending[0] if pending is not None else None,
    )


_SPELLINGS = (("version", ""), ("version_dashed", "-"), ("version_underscored", "_"))


def _spellings(text: str, version: str) -> str:
    """`text` escaped for str.format, with the version spelled in decorations (an anchor
    `{: #kite-v1.18.0 }`, `<a id="v1-18-0">`) as a field, so a new heading never carries the
    old version."""
    out = _escape(text)
    for field, sep in _SPELLINGS:
        spelled = version.replace(".", sep) if sep else version
        if spelled and spelled in out:
            out = _replace_spelled(out, spelled, "{" + field + "}")
    return out


def _replace_spelled(text: str, spelled: str, field: str) -> str:
    r"""`text` with each `spelled` that no digit or dot precedes and no digit (or dot and
    digit) follows replaced by `field`: `re.sub(rf"(?<![\d.]){re.escape(spelled)}(?!\.?\d)")`
    without compiling a pattern per version (a file has thousands)."""
    out: list[str] = []
    pos = at = 0
    while (at := text.find(spelled, at)) >= 0:
        end = at + len(spelled)
        before = text[at - 1] if at else ""
        after = text[end : end + 2]
        if (before and (before.isdecimal() or before == ".")) or _DIGIT_AFTER.match(after):
            at += 1
            continue
        out += [text[pos:at], field]
        pos = at = end
    out.append(text[pos:])
    return "".join(out)


_DIGIT_AFTER = LazyPattern(r"\.?\d")


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
_NUMERIC = LazyPattern(
    r"^(?:(?P<y1>\d{4})(?P<s1>[/.-])(?P<m1>\d{1,2})(?P=s1)(?P<d1>\d{1,2})"
    r"|(?P<a>\d{1,2})(?P<s2>[./])(?P<b>\d{1,2})(?P=s2)(?P<y2>\d{4}|\d{2}))$"
)
_WORDY = LazyPattern(
    rf"^(?:(?P<mon1>{_MONTH})(?P<gap1>\s+)(?P<day1>{_DAY})"
    rf"|(?P<day2>{_DAY})(?P<gap2>\s+)(?P<mon2>{_MONTH}))(?P<rest>,?\s+)(?P<year>\d{{4}})$",
    re.IGNORECASE,
)


def restyle_date(iso: str, like: str | None) -> str:
    """`iso` (YYYY-MM-DD) written the way `like` writes its date (`July 2, 2025`, `28 March
    2021`, `6th December, 2024`, `2025/07/02`, `02.07.2025`, `2/23/25`); `iso` itself when
    `like` is None, ISO or a form this does not know (`known_date_style` tells)."""
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
        written_year = f"{year % 100:02d}" if len(found["y2"]) == 2 else str(year)
        return f"{_pad(first, a, b)}{sep}{_pad(second, b, a)}{sep}{written_year}"
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


def known_date_style(like: str) -> bool:
    """Whether `restyle_date` writes dates the way `like` does (else it writes ISO 8601)."""
    return bool(re.fullmatch(_ISO, like) or _NUMERIC.match(like) or _WORDY.match(like))
