"""The spare tree of a large site: the next build updates it instead of copying the whole site."""
from __future__ import annotations

import generator.speed.spare as spare_module
import generator.write as write_module
from generator.speed.spare import SpareClaim, SpareOutput
from generator.write import MARK
from tests import helpers


def tree(folder) -> dict[str, bytes]:
    """The folder's files but kb's mark, which every output holds."""
    files = helpers.tree(folder)
    assert files.pop(MARK) == write_module.MARK_TEXT
    return files


def staged_write(output, files: dict[str, bytes]):
    staged = SpareOutput(output)
    for rel, data in files.items():
        staged.add(rel, staged.put(rel, data)[1])
    return staged, staged.commit(background_cleanup=True)


def test_the_previous_tree_becomes_the_spare_and_is_updated_next_time(tmp_path, monkeypatch):
    monkeypatch.setattr(spare_module, "SPARE_FILES", 2)
    output, spare = tmp_path / "output", tmp_path / ".kb-spare-output"
    staged_write(output, {"a/index.html": b"a", "b/index.html": b"b1", "c/index.html": b"c"})
    assert not spare.exists()  # nothing to keep the first time

    staged, result = staged_write(output, {"a/index.html": b"a", "b/index.html": b"b2", "d/index.html": b"d"})
    assert not staged.reusing and spare.is_dir()
    assert tree(output) == {"a/index.html": b"a", "b/index.html": b"b2", "d/index.html": b"d"}
    assert tree(spare) == {"a/index.html": b"a", "b/index.html": b"b1", "c/index.html": b"c"}
    assert (result.written, result.unchanged, result.removed) == (2, 1, 1)
    inode_a = (output / "a/index.html").stat().st_ino
    assert (spare / "a/index.html").stat().st_ino == inode_a  # shared, never written into

    staged, result = staged_write(output, {"a/index.html": b"a", "b/index.html": b"b3", "d/index.html": b"d"})
    assert staged.reusing
    assert tree(output) == {"a/index.html": b"a", "b/index.html": b"b3", "d/index.html": b"d"}
    assert tree(spare) == {"a/index.html": b"a", "b/index.html": b"b2", "d/index.html": b"d"}
    assert (output / "a/index.html").stat().st_ino == inode_a
    assert not (tmp_path / "output/c").exists() and not (spare / "c").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".kb-spare-output", "output"]


def test_a_spare_in_any_state_is_brought_to_the_wanted_one(tmp_path, monkeypatch):
    monkeypatch.setattr(spare_module, "SPARE_FILES", 0)
    output, spare = tmp_path / "output", tmp_path / ".kb-spare-output"
    staged_write(output, {"x.html": b"1"})
    staged_write(output, {"x.html": b"1", "y.html": b"2"})
    (spare / "junk/deeper").mkdir(parents=True)
    (spare / "junk/deeper/left.html").write_bytes(b"from an interrupted build")
    (spare / "empty/folder").mkdir(parents=True)
    (spare / "x.html").unlink()
    (spare / "x.html").write_bytes(b"edited by hand")
    staged_write(output, {"x.html": b"1", "y.html": b"3"})
    assert tree(output) == {"x.html": b"1", "y.html": b"3"}
    assert sorted(p.name for p in output.iterdir()) == [MARK, "x.html", "y.html"]  # emptied folders removed too


def test_kept_files_are_linked_unless_the_spare_holds_that_very_file(tmp_path, monkeypatch):
    monkeypatch.setattr(spare_module, "SPARE_FILES", 0)
    output, spare = tmp_path / "output", tmp_path / ".kb-spare-output"
    staged_write(output, {"a/index.html": b"a", "b/index.html": b"b"})
    staged_write(output, {"a/index.html": b"a", "b/index.html": b"b"})
    (spare / "b/index.html").unlink()
    (spare / "b/index.html").write_bytes(b"edited by hand")  # another file at the same path
    staged = SpareOutput(output)
    assert staged.reusing
    for rel in ("a/index.html", "b/index.html"):
        staged.add(rel, written=False)
        staged.keep(rel, (output / rel).stat().st_ino)
    staged.commit(background_cleanup=True)
    assert tree(output) == {"a/index.html": b"a", "b/index.html": b"b"}


def test_small_sites_keep_no_spare(tmp_path):
    output = tmp_path / "output"
    for version in (b"1", b"2", b"3"):
        staged_write(output, {"x.html": version})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["output"]


def test_a_spare_claimed_as_the_build_begins_is_walked_beside_it_and_handed_over(tmp_path, monkeypatch):
    monkeypatch.setattr(spare_module, "SPARE_FILES", 0)
    monkeypatch.setenv("KB_WORKERS", "2")
    output, spare = tmp_path / "output", tmp_path / ".kb-spare-output"
    staged_write(output, {"x.html": b"1"})
    staged_write(output, {"x.html": b"1", "y.html": b"2"})
    (spare / "junk").mkdir()
    (spare / "junk/left.html").write_bytes(b"from an interrupted build")
    claim = SpareClaim(output)
    assert claim.walk is not None and claim.walk.forked  # walked in a child
    other = SpareOutput(output)
    assert not other.reusing  # locked by the claim meanwhile
    other.abort()
    staged = SpareOutput(output, claim)
    assert staged.reusing and claim.lock is None
    for rel, data in {"x.html": b"1", "y.html": b"3"}.items():
        staged.add(rel, staged.put(rel, data)[1])
    staged.commit(background_cleanup=True)
    claim.release()  # nothing left to release: the staged output took it over
    assert tree(output) == {"x.html": b"1", "y.html": b"3"}
    unused = SpareClaim(output)  # a build that stops before writing lets it go
    unused.release()
    later = SpareOutput(output)
    assert later.reusing
    later.abort()


def test_a_large_site_without_a_spare_has_one_made_of_links_beside_the_build(tmp_path, monkeypatch):
    """The build after a cold one: its child links output/'s files into a new spare, which is then
    updated like any spare (the changed files replaced, the others already there)."""
    monkeypatch.setattr(spare_module, "SPARE_FILES", 0)
    monkeypatch.setenv("KB_WORKERS", "2")
    output, spare = tmp_path / "output", tmp_path / ".kb-spare-output"
    staged_write(output, {"a/index.html": b"a", "b/index.html": b"b1", "c/x/index.html": b"c", "old.html": b"o"})
    assert not spare.exists()
    inode_a = (output / "a/index.html").stat().st_ino
    claim = SpareClaim(output, make=True)
    assert claim.walk is not None and claim.walk.forked  # made in a child
    staged = SpareOutput(output, claim)
    assert staged.reusing
    assert (spare / "a/index.html").stat().st_ino == inode_a  # made of links to output/'s files
    for rel, data in {"a/index.html": b"a", "b/index.html": b"b2", "c/x/index.html": b"c"}.items():
        staged.add(rel, staged.put(rel, data)[1])
    result = staged.commit(background_cleanup=True)
    assert tree(output) == {"a/index.html": b"a", "b/index.html": b"b2", "c/x/index.html": b"c"}
    assert tree(spare) == {"a/index.html": b"a", "b/index.html": b"b1", "c/x/index.html": b"c", "old.html": b"o"}
    assert (output / "a/index.html").stat().st_ino == inode_a and (result.written, result.removed) == (1, 1)
    SpareClaim(tmp_path / "small", make=True).release()  # no output/ to link: no spare made
    assert not (tmp_path / ".kb-spare-small").exists()
