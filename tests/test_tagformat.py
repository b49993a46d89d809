"""The project's tag format: rendering, reading, inference from existing tags, validation."""

from __future__ import annotations

import re
from fnmatch import fnmatchcase

import pytest

from release.core.tagformat import TagFormat, resolve, validate
from release.core.version import parse
from release.errors import ConfigError


@pytest.mark.parametrize(
    ("pattern", "version", "tag"),
    [
        ("v{version}", "1.2.3", "v1.2.3"),
        ("v{version}", "1.3.0-rc.1", "v1.3.0rc1"),
        ("{version}", "2.4.0", "2.4.0"),
        ("{version}", "2026.8.17", "2026.8.17"),
        ("hatchling-v{version}", "1.26.3", "hatchling-v1.26.3"),
        ("release/{version}", "2.0.0.dev5", "release/2.0.0.dev5"),
        ("v{version}-final", "1.0.0", "v1.0.0-final"),
    ],
)
def test_render_and_parse_round_trip(pattern: str, version: str, tag: str) -> None:
    fmt = validate(pattern)
    assert fmt.render(parse(version)) == tag
    assert fmt.parse(tag) == parse(version)
    assert fmt.parse(f"refs/tags/{tag}") == parse(version)


@pytest.mark.parametrize(
    ("pattern", "name", "version"),
    [
        ("v{version}", "v1.3.0-rc.1", "1.3.0rc1"),  # any spelling of the version
        ("v{version}", "v2.0.0-dev.5", "2.0.0.dev5"),
        ("v{version}", "v24.2", "24.2"),
        ("v{version}", "v2", None),  # a moving major tag
        ("v{version}", "vnext", None),
        ("v{version}", "vv1.2.3", None),
        ("v{version}", "1.2.3", None),
        ("v{version}", "v1.2.3+build.7", None),  # local versions are never released
        ("{version}", "v1.2.3", None),
        ("{version}", "1.2.3", "1.2.3"),
        ("{version}", "latest", None),
        ("hatchling-v{version}", "hatch-v1.9.0", None),
        ("hatchling-v{version}", "hatchling-v1.26.3", "1.26.3"),
    ],
)
def test_parse_takes_only_release_tags(pattern: str, name: str, version: str | None) -> None:
    got = TagFormat(pattern).parse(name)
    assert (str(got) if got else None) == version


@pytest.mark.parametrize(
    ("names", "pattern", "release_tags", "ignored"),
    [
        ([], "v{version}", [], []),
        (["latest", "nightly"], "v{version}", [], []),
        (["1.0.0", "2.4.0", "2.4.1rc1", "v2"], "{version}", ["1.0.0", "2.4.0", "2.4.1rc1"], []),
        (["v1.0.0", "v1.1.0-rc.1", "v2", "vnext"], "v{version}", ["v1.0.0", "v1.1.0-rc.1"],
         ["v2", "vnext"]),
        (["hatchling-v1.26.2", "hatchling-v1.26.3"], "hatchling-v{version}",
         ["hatchling-v1.26.2", "hatchling-v1.26.3"], []),
        (["pkg@1.0.0", "pkg@1.1.0"], "pkg@{version}", ["pkg@1.0.0", "pkg@1.1.0"], []),
    ],
)
def test_inferred_from_tags_that_agree(
    names: list[str], pattern: str, release_tags: list[str], ignored: list[str]
) -> None:
    resolved = resolve(None, names)
    assert resolved.format.pattern == pattern
    assert [name for name, _ in resolved.tags] == release_tags
    assert list(resolved.ignored) == ignored


def test_mixed_tags_are_a_problem_naming_each_format() -> None:
    with pytest.raises(ConfigError) as caught:
        resolve(None, ["v1.0.0", "v1.1.0", "1.2.0", "hatch-v1.9.0"])
    assert str(caught.value) == (
        "the release tags use more than one format (v{version}: 2 tags such as v1.1.0; "
        "{version}: 1 tag such as 1.2.0; hatch-v{version}: 1 tag such as hatch-v1.9.0): set "
        '[tool.release] tag-format to the one new releases continue (e.g. tag-format = '
        '"v{version}")'
    )


def test_configured_format_wins_and_reports_the_others() -> None:
    resolved = resolve("v{version}", ["1.0.0", "1.1.0", "v1.2.0"])
    assert resolved.format.origin == "[tool.release] tag-format"
    assert [name for name, _ in resolved.tags] == ["v1.2.0"]
    assert resolved.ignored == ("1.0.0", "1.1.0")


def test_origin_says_where_the_format_came_from() -> None:
    assert resolve(None, []).format.origin == "default"
    assert resolve(None, ["2.4.0"]).format.origin == "1 existing tag"
    assert resolve(None, ["2.4.0", "2.5.0"]).format.origin == "2 existing tags"


@pytest.mark.parametrize(
    ("pattern", "needle"),
    [
        ("v", "must contain {version} exactly once"),
        ("{version}-{version}", "must contain {version} exactly once"),
        ("v {version}", "cannot be part of a git tag name"),
        ("v~{version}", "cannot be part of a git tag name"),
        ("a..b/{version}", "cannot be part of a git tag name"),
        ("/v{version}", "is not a valid git tag name"),
        ("{version}.lock", "is not a valid git tag name"),
        ("py3{version}", "a digit right before {version}"),
        ("{version}final", "must start with - _ / or @"),
        ("{version}.1", "must start with - _ / or @"),
    ],
)
def test_bad_formats_say_what_to_fix(pattern: str, needle: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(needle)):
        validate(pattern)


@pytest.mark.parametrize(
    ("pattern", "matches", "misses"),
    [
        ("v{version}", ["v1.2.3", "v1.3.0rc1", "v1.3.0-rc.1", "v2026.8.17"], ["v2", "vnext"]),
        ("{version}", ["1.2.3", "2.0.0.dev5"], ["v1.2.3", "latest"]),
    ],
)
def test_glob_matches_release_tags_and_pre_releases(
    pattern: str, matches: list[str], misses: list[str]
) -> None:
    glob = TagFormat(pattern).glob()
    assert all(fnmatchcase(name, glob) for name in matches)
    assert not any(fnmatchcase(name, glob) for name in misses)
