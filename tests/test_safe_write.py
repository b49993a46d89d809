"""One safe write for every file the apps write: `release.shell.files.safe_write`, and
`extract-notes --output` through it, against real symlinks, FIFOs, devices and directories."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from release.apps.extract_notes import main
from release.errors import DojoError, UsageError
from release.shell import files
from release.shell.files import WriteRefused, safe_write

DATA = Path(__file__).parent / "data" / "changelogs"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copyfile(DATA / "keep-a-changelog.md", tmp_path / "CHANGELOG.md")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_a_regular_file_is_replaced_atomically_and_keeps_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "notes.md"
    target.write_text("old\n")
    target.chmod(0o640)
    inode = target.stat().st_ino
    safe_write(target, "new\n")
    assert target.read_text() == "new\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert target.stat().st_ino != inode  # replaced by rename, not rewritten in place
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.md"]


def test_a_new_file_is_created(tmp_path: Path) -> None:
    safe_write(tmp_path / "new.md", b"bytes\n")
    assert (tmp_path / "new.md").read_bytes() == b"bytes\n"


def test_a_symlink_is_followed_and_stays_a_link(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    target = tmp_path / "real" / "notes.md"
    target.write_text("old\n")
    link = tmp_path / "link.md"
    link.symlink_to(Path("real") / "notes.md")
    safe_write(link, "new\n")
    assert link.is_symlink()
    assert target.read_text() == "new\n"


def test_a_fifo_is_written_to_not_replaced(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    safe_write(fifo, "through the pipe\n")
    reader.join(10)
    assert got == [b"through the pipe\n"]
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def test_a_character_device_is_written_to_not_replaced(tmp_path: Path) -> None:
    device = tmp_path / "null"
    try:
        os.mknod(device, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # a /dev/null of our own
    except PermissionError:
        device = Path("/dev/null")  # not root: the real one is as good, and is only written
    safe_write(device, "gone\n")
    assert stat.S_ISCHR(device.lstat().st_mode)
    assert device.stat().st_rdev == os.makedev(1, 3)


@pytest.mark.parametrize("kind", ["directory", "input", "link-to-input"])
def test_a_directory_or_the_input_itself_is_refused(tmp_path: Path, kind: str) -> None:
    source = tmp_path / "CHANGELOG.md"
    source.write_text("keep me\n")
    target = {"directory": tmp_path, "input": source, "link-to-input": tmp_path / "l"}[kind]
    if kind == "link-to-input":
        target.symlink_to(source)
    with pytest.raises(WriteRefused) as caught:
        safe_write(target, "clobber\n", label="--output", inputs=[source])
    assert str(caught.value).startswith(f"--output {target} is ")
    assert source.read_text() == "keep me\n"


def test_a_missing_directory_is_one_error(tmp_path: Path) -> None:
    with pytest.raises(DojoError, match="its directory does not exist"):
        safe_write(tmp_path / "nope" / "x.md", "x")
    assert not (tmp_path / "nope").exists()


# --- extract-notes --output ----------------------------------------------------------------


def test_output_equal_to_the_changelog_is_refused_and_the_changelog_survives(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = (project / "CHANGELOG.md").read_bytes()
    code, out, err = run(capsys, "2.0.0", "--output", "CHANGELOG.md")
    assert (code, out) == (2, "")
    [line] = err.splitlines()
    assert line.startswith("extract-notes: --output CHANGELOG.md is ")
    assert "another path" in line
    assert (project / "CHANGELOG.md").read_bytes() == before


def test_output_to_a_directory_is_refused(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _out, err = run(capsys, "2.0.0", "--output", str(project))
    assert code == 2
    assert err.splitlines() == [
        f"extract-notes: --output {project} is a directory: pass a file path"
    ]


def test_output_through_a_symlink_updates_the_target(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "target.md").write_text("old\n")
    (project / "link.md").symlink_to("target.md")
    assert run(capsys, "2.0.0", "--output", "link.md")[0] == 0
    assert (project / "link.md").is_symlink()
    assert "old" not in (project / "target.md").read_text()


def test_output_dev_stdout_writes_to_stdout(project: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from release.apps.extract_notes import main; "
         "sys.exit(main())", "2.0.0", "--output", "/dev/stdout"],
        cwd=project, env=env, capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "###" in done.stdout


def test_output_dev_stdout_appends_to_a_redirected_file(project: Path) -> None:
    """`--output /dev/stdout >> notes.md` must not truncate notes.md (no reopening)."""
    notes = project / "notes.md"
    notes.write_text("kept\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with notes.open("a") as out:
        done = subprocess.run(
            [sys.executable, "-c", "import sys; from release.apps.extract_notes import main; "
             "sys.exit(main())", "2.0.0", "--output", "/dev/stdout"],
            cwd=project, env=env, stdout=out, stderr=subprocess.PIPE, text=True, check=False,
        )
    assert done.returncode == 0, done.stderr
    text = notes.read_text()
    assert text.startswith("kept\n")
    assert "###" in text


@pytest.mark.parametrize("kind", ["regular", "proc", "fifo", "too large", "device"])
def test_inputs_are_read_whole_and_bounded_whatever_their_size_says(
    tmp_path: Path, kind: str
) -> None:
    """A changelog is read at the size its file says, then on past it (a /proc file says 0),
    up to the bound: a FIFO is read to its end, and a file or device larger than the bound is
    refused in one error."""
    path = tmp_path / "CHANGELOG.md"
    text = "# Changelog\n\n## [1.0.0] - 2026-01-01\n\n- One\n" * 20
    if kind == "regular":
        path.write_text(text, encoding="utf-8")
        assert files.read_changelog(path) == text
    elif kind == "proc":
        proc = Path("/proc/self/status")
        assert proc.stat().st_size == 0
        assert files.read_text(proc, what="notes", limit=1 << 20).startswith("Name:")
    elif kind == "fifo":
        os.mkfifo(path)
        writer = threading.Thread(target=path.write_text, args=(text,), daemon=True)
        writer.start()
        assert files.read_text(path, what="notes", limit=1 << 20) == text
        writer.join(timeout=10)
    elif kind == "too large":
        path.write_text(text * 2, encoding="utf-8")
        with pytest.raises(UsageError, match="is larger than 1 KiB"):
            files.read_text(path, what="notes", limit=1024)
    else:
        with pytest.raises(UsageError, match="is larger than 64 KiB"):
            files.read_text(Path("/dev/zero"), what="notes", limit=64 << 10)
