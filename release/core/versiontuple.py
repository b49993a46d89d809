"""A version kept as a tuple and turned into a string by the module itself, the way the build
then reads it (setuptools `attr:`, hatch `path` and the like import or evaluate the module):

- Django's convention, `VERSION = (4, 2, 0, "alpha", 0)` with `__version__ =
  get_version(VERSION)`: (major, minor, micro, level, serial), level `final`, `alpha`, `beta`,
  `rc` (serial N gives `aN`, `bN`, `rcN`), `alpha` 0 a development version, `.0` micro dropped
  (`4.2`, not `4.2.0`);
- numbers joined with dots, `version_info = (1, 2, 3)` with `__version__ =
  ".".join(map(str, version_info))` (or `"%d.%d.%d" % version_info`, a comprehension, format).

The tuple is read as the build reads it and edited in its own form (the same length, quotes and
spacing; only the elements change). Anything else that computes the version is not followed:
the caller refuses it, so a tag never disagrees with what the build produces. Pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from release.core.version import Version, parse
from release.errors import ConfigError

_ELEMENT = re.compile(r"\s*(?:(?P<int>\d+)|(?P<q>['\"])(?P<str>[^'\"\n\\]*)(?P=q))\s*")
_LEVELS = {"alpha": "a", "beta": "b", "rc": "rc", "c": "rc", "candidate": "rc"}


@dataclass(frozen=True)
class Element:
    """One element of a version tuple, and where it is written."""

    start: int  # the element's own characters (an int's digits, a string's inside)
    end: int
    value: int | str


@dataclass(frozen=True)
class VersionTuple:
    """The tuple `name` in a file, and how the module turns it into the version."""

    name: str
    convention: str  # "django" or "numbers"
    elements: tuple[Element, ...]
    line: int

    @property
    def version(self) -> Version:
        values = [e.value for e in self.elements]
        if self.convention == "numbers":
            return parse(".".join(str(v) for v in values))
        major, minor, micro, level, serial = values
        main = f"{major}.{minor}" if micro == 0 else f"{major}.{minor}.{micro}"
        if level == "final":
            return parse(main)
        if level == "alpha" and serial == 0:
            return parse(f"{main}.dev0")  # Django's pre-alpha: a development version
        if level == "dev":
            return parse(f"{main}.dev{serial}")
        return parse(f"{main}{_LEVELS[str(level)]}{serial}")

    def write(self, text: str, new: Version, where: str) -> str:
        """`text` with the tuple holding `new` in its own form; `ConfigError` when the form
        cannot say `new` (the build would produce another version than the tag)."""
        values = _values(self, new, where)
        out = text
        for element, value in sorted(zip(self.elements, values, strict=True),
                                     key=lambda pair: pair[0].start, reverse=True):
            out = out[: element.start] + str(value) + out[element.end :]
        return out


def _values(found: VersionTuple, new: Version, where: str) -> list[int | str]:
    cannot = (
        f"{where}: {found.name} = (...) cannot hold {new} in its form (the build would "
        f"produce another version than the tag): choose a version it can hold, or write the "
        f"version there as a string literal"
    )
    size = len(found.elements)
    if new.local is not None or new.post is not None or new.value.epoch or len(new.release) > (
        size if found.convention == "numbers" else 3
    ):
        raise ConfigError(cannot)
    if found.convention == "numbers":
        if new.is_prerelease:
            raise ConfigError(cannot)
        return [*new.release, *[0] * (size - len(new.release))]
    numbers = [*new.release, *[0] * (3 - len(new.release))]
    levels = [e.value for e in found.elements]
    if new.pre is not None and new.dev is None:
        phase, serial = new.pre
        names = {"a": "alpha", "b": "beta", "rc": "rc" if "c" not in levels else "c"}
        return [*numbers, names[phase.value], serial]
    if new.dev is not None and new.pre is None:
        return [*numbers, "dev", new.dev] if levels[3] == "dev" else [*numbers, "alpha", 0]
    if new.dev is None:
        return [*numbers, "final", 0]
    raise ConfigError(cannot)


def _tuple(text: str, name: str) -> tuple[tuple[Element, ...], int] | None:
    """The literal tuple of ints and strings assigned to `name` at the top level."""
    match = re.search(rf"^{re.escape(name)}[ \t]*(?::[^=\n]*)?=[ \t]*\((?P<body>[^()]*)\)",
                      text, re.MULTILINE)
    if match is None:
        return None
    body, at = match["body"], match.start("body")
    parts = body.split(",")
    if parts and not parts[-1].strip():
        parts = parts[:-1]  # a trailing comma
    elements: list[Element] = []
    offset = at
    for part in parts:
        element = _ELEMENT.fullmatch(part)
        if element is None:
            return None
        if element["int"] is not None:
            span = element.span("int")
            value: int | str = int(element["int"])
        else:
            span, value = element.span("str"), element["str"]
        elements.append(Element(offset + span[0], offset + span[1], value))
        offset += len(part) + 1
    return tuple(elements), text.count("\n", 0, match.start()) + 1


def _joined(expression: str, name: str, size: int) -> bool:
    """Does `expression` join the tuple's items with dots, whole?"""
    n = re.escape(name)
    loop = rf"str\(\s*\w+\s*\)\s+for\s+\w+\s+in\s+{n}"
    more = f"{{{size - 1}}}"  # the separators after the first item
    forms = [
        rf"""(['"])\.\1\s*\.\s*join\(\s*(?:map\(\s*str\s*,\s*{n}\s*\)|{loop}|"""
        rf"""\[\s*{loop}\s*\])\s*\)""",
        rf"""(['"])%(?P<f>[ds])(?:\.%(?P=f)){more}\1\s*%\s*(?:tuple\(\s*{n}\s*\)|{n})""",
        rf"""(['"])\{{\}}(?:\.\{{\}}){more}\1\s*\.\s*format\(\s*\*\s*{n}\s*\)""",
    ]
    return any(re.fullmatch(form, expression.strip()) for form in forms)


def find(text: str, expression: str) -> VersionTuple | None:
    """The tuple a computed version `expression` (`get_version(VERSION)`, `".".join(...)`)
    is made from in `text`, when it follows a convention above; None otherwise."""
    django = re.fullmatch(r"get_version\(\s*(?P<name>[A-Za-z_]\w*)\s*\)", expression.strip())
    names = [django["name"]] if django else re.findall(r"[A-Za-z_]\w*", expression)
    for name in dict.fromkeys(names):
        found = _tuple(text, name)
        if found is None:
            continue
        elements, line = found
        values = [e.value for e in elements]
        if django:
            if (
                len(values) == 5 and all(isinstance(v, int) for v in values[:3])
                and isinstance(values[4], int)
                and values[3] in ("final", "dev", *_LEVELS)
            ):
                return VersionTuple(name, "django", elements, line)
            return None
        if values and all(isinstance(v, int) for v in values) and _joined(
            expression, name, len(values)
        ):
            return VersionTuple(name, "numbers", elements, line)
    return None
