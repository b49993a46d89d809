"""PEP 440 versions: parsing every spelling a tag or heading uses, ordering, and the bumps."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.version import Version as Pep440

from release.core.version import (
    Bump,
    Pre,
    VersionError,
    explicit,
    next_version,
    parse,
    try_parse,
)
from release.core.version_reading import reading


@pytest.mark.parametrize(
    ("text", "normal"),
    [
        ("1.2.3", "1.2.3"),
        ("v1.2.3", "1.2.3"),
        ("V1.2.3", "1.2.3"),
        (" 1.2.3\n", "1.2.3"),
        ("1.2.0-rc.1", "1.2.0rc1"),
        ("v1.2.0-rc.1", "1.2.0rc1"),
        ("2.0.0-dev.5", "2.0.0.dev5"),
        ("1.2.3-alpha.1", "1.2.3a1"),
        ("1.2.3-beta.2", "1.2.3b2"),
        ("2.14.0b1", "2.14.0b1"),
        ("1.0.0RC1", "1.0.0rc1"),
        ("2.0.0.post1", "2.0.0.post1"),
        ("2.0.0-post.1", "2.0.0.post1"),
        ("2.5.0.dev0", "2.5.0.dev0"),
        ("2026.8.17", "2026.8.17"),
        ("24.10.0", "24.10.0"),
        ("24.2", "24.2"),
        ("1!2.0", "1!2.0"),
        ("1.2.3+local.7", "1.2.3+local.7"),
    ],
)
def test_every_spelling_parses_to_its_normal_form(text: str, normal: str) -> None:
    assert str(parse(text)) == normal


@pytest.mark.parametrize("text", ["", "banana", "1.2.x", "v", "1.0.0-x.7.z.92", "refs/tags/v1"])
def test_what_is_not_a_version(text: str) -> None:
    assert try_parse(text) is None
    with pytest.raises(VersionError, match="is not a PEP 440 version"):
        parse(text)


def test_pep440_order() -> None:
    ordered = [
        "1.0.0.dev1", "1.0.0a1", "1.0.0a2.dev1", "1.0.0a2", "1.0.0b1", "1.0.0rc1",
        "1.0.0rc1.post1", "1.0.0", "1.0.0.post1.dev1", "1.0.0.post1", "1.0.1.dev0", "1.0.1",
        "1.10.0", "2026.1.1", "1!0.1",
    ]
    assert sorted((parse(v) for v in reversed(ordered)), key=lambda v: v) == [
        parse(v) for v in ordered
    ]
    assert parse("v1.3.0-rc.1") == parse("1.3.0rc1")
    assert parse("1.3") == parse("1.3.0")


@pytest.mark.parametrize(
    ("text", "pre"),
    [("1.2.3", False), ("1.2.3rc1", True), ("1.2.3.dev1", True), ("1.2.3.post1", False),
     ("1.2.3.post1.dev1", True), ("1.2.3b1.post2", True)],
)
def test_is_prerelease_means_pre_or_dev(text: str, pre: bool) -> None:
    assert parse(text).is_prerelease is pre


@pytest.mark.parametrize(
    ("current", "bump", "pre", "new"),
    [
        ("1.2.3", "patch", None, "1.2.4"),
        ("1.2.3", "minor", None, "1.3.0"),
        ("1.2.3", "major", None, "2.0.0"),
        ("0.1.0", "patch", None, "0.1.1"),
        # a pre-release is finished by the bump it is on the way to, not skipped
        ("1.3.0rc2", "minor", None, "1.3.0"),
        ("1.3.0rc2", "patch", None, "1.3.0"),
        ("1.3.0rc2", "major", None, "2.0.0"),
        ("2.0.0b1", "major", None, "2.0.0"),
        ("2.0.0.dev5", "minor", None, "2.0.0"),
        ("1.2.3.post1", "patch", None, "1.2.4"),
        # pre-releases
        ("1.2.3", "minor", "rc", "1.3.0rc1"),
        ("1.3.0rc1", "minor", "rc", "1.3.0rc2"),
        ("1.3.0rc1", "patch", "rc", "1.3.0rc2"),
        ("1.3.0a2", "minor", "b", "1.3.0b1"),
        ("1.3.0b3", "minor", "rc", "1.3.0rc1"),
        ("1.2.3", "major", "a", "2.0.0a1"),
        ("2.0.0.dev5", "major", "rc", "2.0.0rc1"),
        ("1.3.0rc2.dev1", "minor", "rc", "1.3.0rc2"),
        ("1.3.0rc1", "major", "rc", "2.0.0rc1"),
        # finishing, post, dev
        ("1.3.0rc2", "release", None, "1.3.0"),
        ("1.3.0.dev4", "release", None, "1.3.0"),
        ("1.3.0rc1.post1", "release", None, "1.3.0"),
        ("1.2.3.post1.dev2", "release", None, "1.2.3.post1"),
        ("1.2.3", "post", None, "1.2.3.post1"),
        ("1.2.3.post1", "post", None, "1.2.3.post2"),
        ("1.2.3", "dev", None, "1.2.4.dev1"),
        ("1.2.4.dev1", "dev", None, "1.2.4.dev2"),
        ("1.3.0rc1", "dev", None, "1.3.0rc2.dev1"),
        ("1.2.3.post1", "dev", None, "1.2.4.dev1"),
        # CalVer and short or long release numbers
        ("2026.8.17", "patch", None, "2026.8.18"),
        ("24.10", "minor", None, "24.11"),
        ("24.10", "patch", None, "24.10.1"),
        ("24", "minor", None, "24.1"),
        ("1.2.3.4", "minor", None, "1.3.0.0"),
        ("1!1.0", "major", None, "1!2.0"),
    ],
)
def test_bumps(current: str, bump: str, pre: str | None, new: str) -> None:
    got = next_version(parse(current), Bump(bump), Pre(pre) if pre else None)
    assert str(got) == new
    assert got > parse(current)


@pytest.mark.parametrize(
    ("current", "bump", "pre", "needle"),
    [
        ("1.3.0rc2", "minor", "a", "1.3.0a1 would be lower than 1.3.0rc2"),
        ("1.3.0b1", "patch", "a", "use --pre b or a later phase"),
        ("1.2.3", "release", None, "nothing to finish: use --bump patch, minor or major"),
        ("1.2.3.dev1", "post", None, "finish it (--bump release) before a post-release"),
        ("1.2.3+local", "patch", None, "local version label (+local)"),
        ("1.2.3", "post", "rc", "--pre goes with --bump major, minor or patch, not post"),
    ],
)
def test_bumps_that_cannot_apply_say_why(
    current: str, bump: str, pre: str | None, needle: str
) -> None:
    with pytest.raises(VersionError, match=re.escape(needle)):
        next_version(parse(current), Bump(bump), Pre(pre) if pre else None)


def test_explicit_versions() -> None:
    assert str(explicit(parse("24.10.2"), "2026.8.17")) == "2026.8.17"
    assert str(explicit(None, "v1.0.0-rc.1")) == "1.0.0rc1"
    with pytest.raises(VersionError, match=r"not greater than the current version 1\.2\.3"):
        explicit(parse("1.2.3"), "1.2.3")
    with pytest.raises(VersionError, match="not greater"):
        explicit(parse("1.2.3"), "1.2.3rc1")
    with pytest.raises(VersionError, match="local version"):
        explicit(parse("1.2.3"), "1.2.4+ubuntu1")
    with pytest.raises(VersionError, match="not a PEP 440 version"):
        explicit(parse("1.2.3"), "next")


# --- properties: our bumps agree with packaging's ordering --------------------------------

PHASES = st.sampled_from(["a", "b", "rc"])


@st.composite
def versions(draw: st.DrawFn) -> str:
    release = draw(st.lists(st.integers(0, 30), min_size=1, max_size=4))
    text = ".".join(map(str, release))
    if draw(st.booleans()):
        text += draw(PHASES) + str(draw(st.integers(0, 5)))
    if draw(st.booleans()):
        text += f".post{draw(st.integers(0, 5))}"
    if draw(st.booleans()):
        text += f".dev{draw(st.integers(0, 5))}"
    if draw(st.integers(0, 9)) == 0:
        text = f"{draw(st.integers(1, 3))}!{text}"
    return text


@settings(max_examples=400, deadline=None)
@given(versions(), st.sampled_from(list(Bump)), st.one_of(st.none(), st.sampled_from(list(Pre))))
def test_every_bump_goes_up(text: str, bump: Bump, pre: Pre | None) -> None:
    current = parse(text)
    try:
        new = next_version(current, bump, pre)
    except VersionError:
        return  # refused with a reason (tested above); never a lower or equal version
    assert Pep440(str(new)) > Pep440(text)
    assert new > current
    assert new.local is None
    if pre is not None:
        assert new.pre is not None
        assert new.pre[0] is pre
    if bump in (Bump.MAJOR, Bump.MINOR, Bump.PATCH) and pre is None:
        assert not new.is_prerelease
        assert new.post is None


@settings(max_examples=300, deadline=None)
@given(versions())
def test_finishing_a_prerelease_gives_its_base(text: str) -> None:
    current = parse(text)
    if not current.is_prerelease:
        with pytest.raises(VersionError):
            next_version(current, Bump.RELEASE)
        return
    finished = next_version(current, Bump.RELEASE)
    assert finished > current
    assert not finished.is_prerelease
    if current.post is None or current.pre is not None:
        assert finished == current.base
        assert str(finished) == Pep440(text).base_version


@settings(max_examples=200, deadline=None)
@given(versions(), st.sampled_from(["", "v", "V"]))
def test_parse_is_packaging_with_a_prefix(text: str, prefix: str) -> None:
    assert parse(prefix + text).value == Pep440(text)
    assert str(parse(prefix + text)) == str(Pep440(text))


@pytest.mark.parametrize("written", ["4.0.0-1", "v4.0.0-1", "1.2.3-0.1"])
def test_one_rule_for_a_semver_numeric_prerelease_in_tags_headings_and_files(
    written: str,
) -> None:
    # PEP 440 alone would read `4.0.0-1` as the post-release 4.0.0.post1; a changelog heading
    # reads it as npm does, a pre-release. One module decides, so a tag, a heading and a
    # version file cannot disagree.
    from release.core.changelog import versions as headings
    from release.core.tagformat import TagFormat

    assert reading(written) is None
    assert headings.pep440(written.lstrip("v")) is None
    assert headings.is_prerelease(written.lstrip("v"))
    assert TagFormat().parse(written if written.startswith("v") else f"v{written}") is None
    with pytest.raises(VersionError, match=r"SemVer pre-release.*rc.*\.post"):
        parse(written)
