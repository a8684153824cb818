import os
from pathlib import Path

from generator import write
from generator.model.pages import OutputFile
from generator.site_folder import static_files
from generator.write import MARK, colliding_paths, write_output


def test_writes_files_and_static(tmp_path):
    static = tmp_path / "static"
    (static / "img").mkdir(parents=True)
    (static / "img/logo.png").write_bytes(b"png")
    out = tmp_path / "output"
    statics = static_files(tmp_path, theme=tmp_path / "no-theme")
    result = write_output([OutputFile("index.html", b"home"), OutputFile("qa/x/index.html", b"x")], out, statics)
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
    assert sorted(os.listdir(out)) == [MARK, "b.html"] and sorted(os.listdir(tmp_path)) == ["output"]


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


def test_a_tree_another_build_is_making_is_not_cleaned_away(tmp_path):
    from generator.write import StagedOutput

    out = tmp_path / "output"
    (tmp_path / ".kb-tmp-output-killed").mkdir()  # left by a build that was killed: nobody holds it
    other = StagedOutput(out)  # a build at work beside this one
    other.put("index.html", b"theirs")
    write_output([OutputFile("index.html", b"mine")], out)
    assert sorted(os.listdir(tmp_path)) == [other.root.name, "output"]
    other.add("index.html", True)
    other.commit()
    assert (out / "index.html").read_bytes() == b"theirs" and sorted(os.listdir(tmp_path)) == ["output"]


def test_an_old_tree_being_swapped_by_another_build_is_not_put_back(tmp_path, monkeypatch):
    """Without renameat2 a build renames output/ away, then its new tree in: meanwhile another build
    must not take the old tree for one a killed build left."""
    monkeypatch.setattr(write, "_exchange", lambda a, b: False)
    out = tmp_path / "output"
    write_output([OutputFile("a.html", b"1")], out)
    real_rename = os.rename

    def rename(source, target):
        real_rename(source, target)
        if Path(target).name.startswith(".kb-old-"):  # between the two renames
            write.clean_leftovers(out)

    monkeypatch.setattr(write.os, "rename", rename)
    write_output([OutputFile("a.html", b"2")], out)
    assert (out / "a.html").read_bytes() == b"2" and sorted(os.listdir(tmp_path)) == ["output"]


def test_static_files_are_read_inside_the_site_only(tmp_path):
    from generator.site_folder import files_inside

    site = tmp_path / "site"
    (site / "static/img").mkdir(parents=True)
    (site / "static/img/a.png").write_bytes(b"a")
    (site / "notes.txt").write_text("inside the site", encoding="utf-8")
    (tmp_path / "outside.txt").write_text("outside", encoding="utf-8")
    for name, target in {"in.txt": "../notes.txt", "img2": "img", "out.txt": "../../outside.txt", "up": "..",
                         "self": ".", "gone.txt": "missing.txt", "outdir": "../.."}.items():
        (site / "static" / name).symlink_to(target)
    found, skipped = files_inside(site / "static", site, "static/")
    assert found == {"img/a.png": site / "static/img/a.png", "img2/a.png": site / "static/img2/a.png",
                     "in.txt": site / "static/in.txt"}
    assert [(str(p.location), p.severity, p.message.partition(";")[0]) for p in skipped] == [
        ("static/out.txt:1", "warning", f"points outside the site ({tmp_path / 'outside.txt'})"),
        ("static/outdir:1", "warning", f"points outside the site ({tmp_path})"),
        ("static/self:1", "warning", "a symlink back to a folder it is in (a loop)"),
        ("static/up:1", "warning", "a symlink back to a folder it is in (a loop)")]


def test_a_static_file_named_like_the_mark_is_skipped_with_a_warning(tmp_path):
    from generator.site_folder import static_sources

    (tmp_path / "static").mkdir()
    (tmp_path / "static" / MARK).write_text("mine", encoding="utf-8")
    found, skipped = static_sources(tmp_path, theme=tmp_path / "no-theme")
    assert found == {} and [str(p) for p in skipped] == [
        f"static/{MARK}:1: warning: {MARK} is the name of kb's mark in its output folder; skipped: rename the file"]


def test_a_symlink_into_the_sites_unpublished_folders_is_skipped(tmp_path):
    """The cache holds drafts; output/, kb's working trees and .git are not the site's to publish."""
    from generator.site_folder import files_inside

    site = tmp_path / "site"
    (site / "static").mkdir(parents=True)
    for folder in (".kb-cache", "output", ".git", ".kb-spare-output", "public"):
        (site / folder).mkdir()
        (site / folder / "x.txt").write_text(folder, encoding="utf-8")
        (site / "static" / folder.strip(".")).symlink_to(f"../{folder}")
    found, skipped = files_inside(site / "static", site, "static/")
    assert found == {"public/x.txt": site / "static/public/x.txt"}
    assert [(str(p.location), p.message.partition(",")[0]) for p in skipped] == [
        ("static/git:1", "points into .git"), ("static/kb-cache:1", "points into .kb-cache"),
        ("static/kb-spare-output:1", "points into .kb-spare-output"), ("static/output:1", "points into output")]
