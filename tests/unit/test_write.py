import os

from generator.render import OutputFile
from generator.write import colliding_paths, write_output


def test_writes_files_and_static(tmp_path):
    static = tmp_path / "static"
    (static / "img").mkdir(parents=True)
    (static / "img/logo.png").write_bytes(b"png")
    out = tmp_path / "output"
    result = write_output([OutputFile("index.html", b"home"), OutputFile("qa/x/index.html", b"x")], out, [static])
    assert (out / "index.html").read_bytes() == b"home"
    assert (out / "img/logo.png").read_bytes() == b"png"
    assert (result.written, result.unchanged, result.removed) == (3, 0, 0)


def test_unchanged_files_keep_their_inode_and_stale_files_go(tmp_path):
    out = tmp_path / "output"
    write_output([OutputFile("a.html", b"same"), OutputFile("b.html", b"old"), OutputFile("gone.html", b"x")], out, [])
    before = (out / "a.html").stat()
    result = write_output([OutputFile("a.html", b"same"), OutputFile("b.html", b"new")], out, [])
    after = (out / "a.html").stat()
    assert (before.st_ino, before.st_mtime_ns) == (after.st_ino, after.st_mtime_ns)
    assert (out / "b.html").read_bytes() == b"new"
    assert not (out / "gone.html").exists()
    assert (result.written, result.unchanged, result.removed) == (1, 1, 1)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["output"]  # no temporary folders left


def test_leftovers_of_an_interrupted_build_are_cleaned(tmp_path):
    out = tmp_path / "output"
    (tmp_path / ".kb-tmp-output-abc").mkdir()
    write_output([OutputFile("index.html", b"x")], out, [])
    assert sorted(os.listdir(tmp_path)) == ["output"]


def test_two_files_for_one_path_are_reported():
    problems = colliding_paths([OutputFile("tags/a/index.html", b""), OutputFile("tags/A/index.html", b"")])
    assert [p.message for p in problems] == [
        'a generated file (tags/A/index.html) and a generated file (tags/a/index.html) would both be written to '
        '"tags/A/index.html" (as "tags/a/index.html" on case-insensitive disks): change a slug or rename one of them']
