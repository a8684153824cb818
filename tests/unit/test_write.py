import os

from generator import write
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


def test_an_exception_while_writing_leaves_the_previous_output_whole(tmp_path, monkeypatch):
    out = tmp_path / "output"
    write_output([OutputFile(f"p{n}.html", b"old %d" % n) for n in range(20)], out, [])
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    real_write = write.Path.write_bytes
    calls = []

    def interrupted(self, data):
        calls.append(self)
        if len(calls) == 10:
            raise KeyboardInterrupt
        return real_write(self, data)

    monkeypatch.setattr(write.Path, "write_bytes", interrupted)
    try:
        write_output([OutputFile(f"p{n}.html", b"new %d" % n) for n in range(20)], out, [])
    except KeyboardInterrupt:
        pass
    else:
        raise AssertionError("the interruption did not happen")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(os.listdir(tmp_path)) == ["output"]


def test_an_output_moved_away_by_a_killed_swap_is_put_back(tmp_path):
    """Without renameat2 the swap is two renames; a kill between them must not lose the site."""
    old = tmp_path / ".kb-old-output-x1"
    old.mkdir()
    (old / "index.html").write_bytes(b"previous site")
    (tmp_path / ".kb-tmp-output-x2").mkdir()
    write.clean_leftovers(tmp_path / "output")
    assert sorted(os.listdir(tmp_path)) == ["output"]
    assert (tmp_path / "output/index.html").read_bytes() == b"previous site"


def test_swap_without_renameat2_still_replaces_the_output(tmp_path, monkeypatch):
    monkeypatch.setattr(write, "_exchange", lambda a, b: False)
    out = tmp_path / "output"
    write_output([OutputFile("a.html", b"1")], out, [])
    write_output([OutputFile("b.html", b"2")], out, [])
    assert sorted(os.listdir(out)) == ["b.html"] and sorted(os.listdir(tmp_path)) == ["output"]


def test_collisions_name_their_sources_and_static_files():
    files = [OutputFile("qa/x/index.html", b""), OutputFile("members/a/index.html", b""),
             OutputFile("members/A/index.html", b""), OutputFile("about/index.html", b"")]
    origins = {"qa/x/index.html": ["content/qa/x.md:1"], "members/a/index.html": ["content/members.yaml:2"],
               "members/A/index.html": ["content/members.yaml:5"]}
    found = [str(p) for p in colliding_paths(files, origins, static=["qa/x/index.html"])]
    assert found == [
        'content/qa/x.md:1: content/qa/x.md:1 and static/qa/x/index.html would both be written to "qa/x/index.html": '
        "change a slug or rename one of them",
        'content/members.yaml:5: content/members.yaml:5 and content/members.yaml:2 would both be written to '
        '"members/A/index.html" (as "members/a/index.html" on case-insensitive disks): change a slug or rename one of them',
    ]


def test_a_file_where_another_output_needs_a_folder_is_reported():
    files = [OutputFile("qa/feed.xml", b""), OutputFile("qa/feed.xml/index.html", b""), OutputFile("qa/x/index.html", b"")]
    origins = {"qa/feed.xml/index.html": ["content/qa/f.md:1"]}
    assert sorted(str(p) for p in colliding_paths(files, origins, static=["qa/x"])) == [
        'content/qa/f.md:1: a generated file (qa/feed.xml) and content/qa/f.md:1 clash: "qa/feed.xml" would be a file, '
        'but "qa/feed.xml/index.html" needs it to be a folder: change a slug or rename one of them',
        'static/qa/x:1: static/qa/x and a generated file (qa/x/index.html) clash: "qa/x" would be a file, '
        'but "qa/x/index.html" needs it to be a folder: change a slug or rename one of them',
    ]
