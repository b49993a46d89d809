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


PLAIN = [f"0.{minor}.{patch}" for minor in range(1, 12) for patch in range(4)]


@pytest.mark.parametrize(
    ("names", "project", "current", "pattern", "origin", "ignored"),
    [
        # one stray historic tag in another format beside many plain ones
        ([*PLAIN, "v0.1.16"], None, "0.11.3", "{version}", "the tag 0.11.3 of the current "
         "version", ["v0.1.16"]),
        # moving `v1`/`v1.0` tags beside the releases; the version source is a dev version
        (["1.0.0", "1.0.1", "1.1.0", "v1", "v1.0"], None, "1.2.0.dev0", "{version}",
         "2 of the 3 newest release tags", ["v1.0"]),
        # three old alphas in another format
        (["0.1a1", "0.1a2", "0.1a3", "v0.2.0", "v0.3.0", "v1.0.0"], None, None, "v{version}",
         "3 of the 3 newest release tags", ["0.1a1", "0.1a2", "0.1a3"]),
        # a fork's tags (higher versions) beside the project's own
        (["v3.0.0", "v3.1.0", "v3.2.0", "1.0.0", "1.1.0"], None, "1.1.0", "{version}",
         "the tag 1.1.0 of the current version", ["v3.0.0", "v3.1.0", "v3.2.0"]),
        # a monorepo: the project's name decides, its spelling normalised
        (["hatch-v1.9.0", "hatch-v1.10.0", "hatchling-v1.26.2", "hatchling-v1.26.3"],
         "Hatchling", None, "hatchling-v{version}", "2 tags named after the project Hatchling",
         ["hatch-v1.10.0", "hatch-v1.9.0"]),
        (["my_pkg-1.0.0", "other-2.0.0", "other-2.1.0"], "my-pkg", "1.0.0", "my_pkg-{version}",
         "1 tag named after the project my-pkg", ["other-2.0.0", "other-2.1.0"]),
        # a project that switched formats: the newest releases continue
        (["0.8.0", "0.9.0", "0.9.1", "v0.10.0", "v0.11.0"], None, None, "v{version}",
         "2 of the 3 newest release tags", ["0.8.0", "0.9.0", "0.9.1"]),
    ],
    ids=["stray", "moving", "alphas", "fork", "monorepo", "monorepo-normalised", "switched"],
)
def test_the_format_comes_from_the_history_that_matters(
    names: list[str], project: str | None, current: str | None, pattern: str, origin: str,
    ignored: list[str],
) -> None:
    resolved = resolve(None, names, project=project,
                       current=parse(current) if current else None)
    assert (resolved.format.pattern, resolved.format.origin) == (pattern, origin)
    assert sorted(resolved.ignored) == sorted(ignored)
    assert all(resolved.format.parse(name) for name, _ in resolved.tags)


@pytest.mark.parametrize(
    ("names", "found"),
    [
        # every release tagged twice
        (["v1.1.0", "1.1.0", "v1.2.0", "1.2.0"],
         '({version}: 2 tags such as 1.2.0; v{version}: 2 tags such as v1.2.0): set '
         '[tool.release] tag-format to the one new releases continue ("{version}" or '
         '"v{version}")'),
        # the newest three in three formats; the older ones are not named
        (["0.1.0", "0.2.0", "v1.0.0", "rel-1.1.0", "pkg@1.2.0"],
         "(pkg@{version}: 1 tag such as pkg@1.2.0; rel-{version}: 1 tag such as rel-1.1.0; "
         'v{version}: 1 tag such as v1.0.0): set [tool.release] tag-format to the one new '
         'releases continue ("pkg@{version}" or "rel-{version}" or "v{version}")'),
    ],
    ids=["dual", "three"],
)
def test_newest_tags_that_disagree_are_a_problem_naming_what_was_seen(
    names: list[str], found: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve(None, names, project="demo")
    assert str(caught.value) == f"the newest release tags use more than one format {found}"


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
