"""dataclasses imported without `inspect` (release/core/fast_dataclasses.py), and the values on
`extract-notes`' path that are named tuples rather than dataclasses.

Each property is checked in a fresh interpreter: this one imported dataclasses long ago.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from release.core import changelog
from release.core.changelog import heading, model, roll

# What `import inspect` brings in that nothing else on extract-notes' path imports.
INSPECTS = ("inspect", "ast", "dis", "tokenize")


def _run(code: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, check=True
    )
    return done.stdout


def test_extract_notes_runs_without_importing_inspect(tmp_path: Path) -> None:
    """Every dataclass the run builds has a docstring, so dataclasses never asks `inspect`."""
    path = tmp_path / "CHANGELOG.md"
    path.write_text(
        "# Changelog\n\n## [Unreleased]\n\n- Next\n\n## [1.0.0] - 2026-01-01\n\n- One ([#1])\n\n"
        "[#1]: https://example.org/1\n",
        encoding="utf-8",
    )
    code = (
        "import sys, io, contextlib, json\n"
        "from release.apps.extract_notes import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        "    code = main(sys.argv[1:])\n"
        f"loaded = [m for m in {INSPECTS!r} if m in sys.modules]\n"
        "print(json.dumps([code, out.getvalue(), loaded, 'dataclasses' in sys.modules]))\n"
    )
    for query in ("1.0.0", "latest", "Unreleased"):
        for fmt in ("markdown", "json"):
            code_, out, loaded, dataclasses_loaded = json.loads(
                _run(code, query, "--changelog", str(path), "--format", fmt)
            )
            assert code_ == 0
            assert out
            assert dataclasses_loaded  # the probe works: the run made dataclasses
            assert loaded == [], (query, fmt)


def test_the_stand_in_forwards_to_the_real_inspect() -> None:
    code = (
        "import sys, release, dataclasses, json\n"
        "before = 'inspect' in sys.modules\n"
        "stand_in = dataclasses.inspect\n"
        "signature = stand_in.signature\n"  # the first use imports the real module
        "import inspect\n"
        "print(json.dumps([before, signature is inspect.signature, stand_in is inspect,\n"
        "    inspect.__name__, callable(stand_in.getmembers), hasattr(inspect, 'Parameter')]))\n"
    )
    assert json.loads(_run(code)) == [False, True, False, "inspect", True, True]


def test_a_dataclass_without_a_docstring_gets_the_same_doc() -> None:
    """The one use dataclasses makes of `inspect`: the signature as the class's `__doc__`."""
    code = (
        "import sys\n"
        "if sys.argv[1] == 'patched':\n"
        "    import release\n"
        "from dataclasses import dataclass, field\n"
        "@dataclass(frozen=True)\n"
        "class Point:\n"
        "    x: int\n"
        "    y: 'list[str]' = field(default_factory=list)\n"
        "    z: str = 'a'\n"
        "print(repr(Point.__doc__), repr(Point(1)), 'inspect' in sys.modules)\n"
    )
    plain = _run(code, "plain")
    assert "Point(x: int, y: 'list[str]' = <factory>, z: str = 'a')" in plain
    assert _run(code, "patched") == plain
    assert plain.split()[-1] == "True"  # it took `inspect`, in both


def test_nothing_is_patched_when_dataclasses_came_first() -> None:
    code = (
        "import sys, dataclasses, inspect, release\n"
        "print(dataclasses.inspect is inspect, sys.modules['inspect'] is inspect)\n"
    )
    assert _run(code).split() == ["True", "True"]


def test_the_stand_in_is_never_left_as_inspect() -> None:
    code = (
        "import sys, release\n"
        "print('inspect' in sys.modules, 'dataclasses' in sys.modules)\n"
        "import inspect\n"
        "print(type(inspect.signature).__name__, inspect.__spec__ is not None)\n"
    )
    assert _run(code).split() == ["False", "True", "function", "True"]


def test_the_named_tuples_keep_their_fields_defaults_and_repr() -> None:
    """HeadingStyle, Title, TitleStyle and Extracted are named tuples: the same fields and
    defaults, compared and hashed by value, shown as a dataclass shows itself."""
    style = model.HeadingStyle()
    assert repr(style) == "HeadingStyle(level=2, template='[{version}] - {date}', setext='')"
    assert style == model.HeadingStyle(2, "[{version}] - {date}", "")
    assert hash(style) == hash(model.HeadingStyle(level=2))
    assert style.shape() == (2, False, "[{version}] - {date}")
    assert heading.TitleStyle().product is None
    title = heading.read_title("[1.2.3] - 2026-01-02")
    assert title is not None
    assert (title.version, title.date, title.template) == ("1.2.3", "2026-01-02",
                                                            "[{version}] - {date}")
    assert (title.also, title.pending, title.marker) == ((), False, None)
    extracted = changelog.extract(
        "# Changelog\n\n## [1.2.3] - 2026-01-02\n\n- One\n", "1.2.3", name="CHANGELOG.md"
    )
    assert list(extracted._asdict()) == ["version", "date", "title", "body", "url"]


def test_rolled_is_the_rolls_and_still_named_by_the_model() -> None:
    assert model.Rolled is roll.Rolled
    assert changelog.Rolled is roll.Rolled
    assert roll.Rolled("text", ("a warning",)).warnings == ("a warning",)
