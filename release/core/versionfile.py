"""The version string inside a file a build backend reads it from: a Python module's
`__version__ = "1.2.3"` (hatch `path`, setuptools `attr:`, pdm `source = "file"`, flit) or a
plain-text `VERSION` file (setuptools `file:`). Pure: text in, text out.

Only the version's characters change; quotes, spacing, comments and every other line stay as
they were. A version that is computed (`__version__ = get_version(VERSION)`,
`importlib.metadata.version(...)`) cannot be written, and the error says what to write instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from release.core.version import Version, VersionError, parse, spell
from release.errors import ConfigError

if TYPE_CHECKING:
    from release.core.versiontuple import VersionTuple

# A top-level assignment of a string literal (and nothing else), possibly chained or annotated:
# `__version__ = "1.2.3"`, `__version__ = version = '1.5.0'`, `VERSION: str = "2.0"`.
_ASSIGN = re.compile(
    r"^(?P<names>(?:[A-Za-z_]\w*[ \t]*(?::[ \t]*[\w.\[\]]+[ \t]*)?=[ \t]*)+)"
    r"(?P<prefix>[rRuU]?)(?P<quote>\"\"\"|'''|\"|')(?P<v>v?)(?P<version>[^'\"\n\\]*)(?P=quote)"
    # the literal is the whole value: `".".join(VERSION)` is computed
    r"(?=[ \t]*(?:;[ \t]*)?(?:\#.*)?$)",
    re.MULTILINE,
)
# Any top-level assignment to a name (to tell "computed" from "missing").
_ANY_ASSIGN = re.compile(r"^(?P<names>(?:[A-Za-z_]\w*[ \t]*(?::[^=\n]*)?=[ \t]*)+)(?P<rest>.*)$",
                         re.MULTILINE)
_NAME = re.compile(r"[A-Za-z_]\w*")
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


@dataclass(frozen=True)
class VersionFile:
    """Where in a file the version is: a Python variable, a custom regex, or the whole file."""

    path: str  # relative to the project root, POSIX
    variables: tuple[str, ...] = ("__version__",)  # empty: a plain-text file
    pattern: str | None = None  # a regex with a `version` group (hatch's `pattern`)
    json_key: str | None = None  # a JSON file's top-level string (package.json's "version")

    @property
    def python(self) -> bool:
        return bool(self.variables) and self.pattern is None and self.json_key is None

    def describe(self) -> str:
        if self.json_key is not None:
            return f'"{self.json_key}" in {self.path}'
        if self.pattern is not None:
            return f"{self.path} (pattern {self.pattern!r})"
        if self.variables:
            return f"{self.variables[0]} in {self.path}"
        return self.path


def _assigned(group: str) -> set[str]:
    """The names a chain `a = b: str = ` assigns (annotations dropped)."""
    names = set()
    for part in group.split("="):
        name = part.split(":")[0].strip()
        if _NAME.fullmatch(name):
            names.add(name)
    return names


def _span(spec: VersionFile, text: str) -> tuple[int, int]:
    """The (start, end) of the version's characters in `text`; `ConfigError` saying what to
    write there when the file has no writable version."""
    if spec.json_key is not None:
        return _json_span(spec, text)
    if spec.pattern is not None:
        try:
            regex = re.compile(spec.pattern, re.MULTILINE)
        except re.error as exc:
            raise ConfigError(
                f"the version pattern {spec.pattern!r} is not a regex ({exc}): fix it"
            ) from None
        if "version" not in regex.groupindex:
            raise ConfigError(
                f"the version pattern {spec.pattern!r} has no (?P<version>...) group: add one"
            )
        found = list(regex.finditer(text))
        if len(found) != 1:
            raise ConfigError(
                f"{spec.path}: the version pattern {spec.pattern!r} matches {len(found)} times, "
                "not once: fix the pattern or the file"
            )
        return found[0].span("version")
    if not spec.variables:
        match = re.fullmatch(r"\s*v?(?P<version>[^\s]+)\s*", text)
        if match is None:
            raise ConfigError(
                f"{spec.path} must hold the version alone (such as 1.2.3 and a newline): fix it"
            )
        return match.span("version")
    wanted = set(spec.variables)
    found = [m for m in _ASSIGN.finditer(text) if _assigned(m["names"]) & wanted]
    if len(found) == 1:
        return found[0].span("version")
    name = spec.variables[0]
    example = f'{name} = "1.2.3"'
    if len(found) > 1:
        lines = ", ".join(str(text.count("\n", 0, m.start()) + 1) for m in found)
        raise ConfigError(
            f"{spec.path} assigns {name} a string {len(found)} times (lines {lines}): keep one "
            f"top-level `{example}` so release knows which to edit"
        )
    computed = [m for m in _ANY_ASSIGN.finditer(text) if _assigned(m["names"]) & wanted]
    if computed:
        line = text.count("\n", 0, computed[0].start()) + 1
        shown = computed[0].group(0).strip()
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        # No `version-source = "vcs"` advice: the build would still compute its own version,
        # and the tag would disagree with it.
        raise ConfigError(
            f"{spec.path} line {line} computes the version (`{shown}`), which release cannot "
            f"follow: write the version there as a string literal (`{example}`), or as "
            "Django's `VERSION = (4, 2, 0, \"final\", 0)` tuple"
        )
    raise ConfigError(
        f"{spec.path} has no `{example}` line: write one there (release edits it on each "
        "release), or set [tool.release] version-source"
    )


def as_tuple(spec: VersionFile, text: str) -> VersionTuple | None:
    """The tuple a computed `__version__` is made from, when the module follows a convention
    `core.versiontuple` knows (and no string literal is assigned)."""
    if not spec.python or any(_assigned(m["names"]) & set(spec.variables)
                              for m in _ASSIGN.finditer(text)):
        return None
    for match in _ANY_ASSIGN.finditer(text):
        if _assigned(match["names"]) & set(spec.variables):
            expression = re.sub(r"\s+#.*$", "", match["rest"]).strip()
            from release.core import versiontuple  # noqa: PLC0415 (a computed __version__'s)

            return versiontuple.find(text, expression)
    return None


def _json_span(spec: VersionFile, text: str) -> tuple[int, int]:
    """The characters of the top-level string `spec.json_key` of a JSON object (escapes are
    not versions: refused), found by walking the document once."""
    import json  # noqa: PLC0415 (a JSON version file's alone)

    try:
        value = json.loads(text)
    except ValueError:
        raise ConfigError(f"{spec.path} is not valid JSON: fix it") from None
    key = spec.json_key
    if not isinstance(value, dict) or not isinstance(value.get(key), str):
        raise ConfigError(f'{spec.path} has no top-level "{key}" string: add one ("1.2.3")')
    depth, at = 0, 0
    while at < len(text):
        char = text[at]
        if char == '"':
            string = _JSON_STRING.match(text, at)
            if string is None:
                break
            name, end = json.loads(string.group()), string.end()
            after = re.match(r'\s*:\s*"', text[end:])
            if depth == 1 and name == key and after is not None:
                start = end + after.end()
                close = text.index('"', start)
                if "\\" in text[start:close]:
                    break
                return start, close
            at = end
            continue
        depth += 1 if char in "{[" else -1 if char in "}]" else 0
        at += 1
    raise ConfigError(f'{spec.path}: "{key}" must be a plain version string ("1.2.3"): fix it')


def read(spec: VersionFile, text: str) -> Version:
    """The version written in `text` (the file `spec.path`)."""
    found = as_tuple(spec, text)
    if found is not None:
        return found.version
    start, end = _span(spec, text)
    try:
        return parse(text[start:end])
    except VersionError:
        raise VersionError(
            f"{spec.describe()} is {text[start:end]!r}, not a PEP 440 version (such as 1.2.3 "
            "or 1.3.0rc1): fix it"
        ) from None


def written(spec: VersionFile, text: str) -> str:
    """The version's characters as the file spells them (`8.5.0.dev`, `3.3.6-dev0`)."""
    found = as_tuple(spec, text)
    if found is not None:
        return str(found.version)
    start, end = _span(spec, text)
    return text[start:end]


def write(spec: VersionFile, text: str, new: Version | str) -> str:
    """`text` with the version replaced by `new`; every other character stays (a tuple keeps
    its form, or `ConfigError` says it cannot hold `new`)."""
    found = as_tuple(spec, text)
    if found is not None:
        return found.write(text, parse(str(new)), spec.path)
    start, end = _span(spec, text)
    read(spec, text)
    return text[:start] + spell(new, text[start:end]) + text[end:]
