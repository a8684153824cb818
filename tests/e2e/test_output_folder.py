"""The output folder: a build writes only into a folder of kb's, and nothing from outside the site
gets into it (static files and templates that are symlinks out of the site are skipped)."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from generator.commands.cli import main
from generator.speed.cache import CACHE_DIR
from generator.write import MARK
from tests.conftest import NOW
from tests.helpers import page, tree


def run(capsys, *args: str) -> tuple[int, list[str], str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.err.splitlines(), captured.out


def everything(root: Path) -> dict[str, bytes | str]:
    """Every file (its bytes) and symlink (its target) under root, the cache aside."""
    found: dict[str, bytes | str] = {}
    for folder, folders, files in os.walk(root):
        folders[:] = [f for f in folders if f != CACHE_DIR]
        for name in files + [f for f in folders if os.path.islink(os.path.join(folder, f))]:
            path = Path(folder, name)
            found[path.relative_to(root).as_posix()] = os.readlink(path) if path.is_symlink() else path.read_bytes()
    return found


@pytest.fixture
def site(basic_site: Path) -> Path:
    """The basic site with a static/ and a templates/ folder, and a folder of the curator's beside it."""
    (basic_site / "static/img").mkdir(parents=True)
    (basic_site / "static/img/logo.png").write_bytes(b"png")
    (basic_site / "templates").mkdir()
    (basic_site / "templates/note.txt").write_text("mine", encoding="utf-8")
    (basic_site / "other").mkdir()
    (basic_site / "other/notes.txt").write_text("the curator's notes", encoding="utf-8")
    (basic_site / "a-file").write_text("not a folder", encoding="utf-8")
    (basic_site / "content-link").symlink_to("content")
    return basic_site


REFUSED = {  # --output as given (from the site's folder) → what the message says it is
    "content": "is the site's content/ folder",
    "./content/": "is the site's content/ folder",
    "content-link": "is the site's content/ folder",
    "content/qa": "is inside the site's content/ folder",
    "content/qa/new": "is inside the site's content/ folder",
    "static": "is the site's static/ folder",
    "templates": "is the site's templates/ folder",
    CACHE_DIR: "is kb's cache folder",
    ".": "is the site's folder",
    "../basic": "is the site's folder",
    "..": "holds the site's folder",
    "a-file": "is a file, not a folder",
    "site_config.yaml": "is a file, not a folder",
    "other": "holds files kb did not write",
    ".kb-spare-output": "is a folder kb keeps for itself while it builds",
}


@pytest.mark.parametrize("output", REFUSED)
def test_an_output_folder_that_is_not_kbs_is_refused_before_anything_is_touched(site, output, capsys, monkeypatch):
    (site / ".kb-spare-output").mkdir()
    monkeypatch.chdir(site)
    before = everything(site)
    code, err, out = run(capsys, "build", "--now", NOW, "--output", output)
    assert (code, out) == (2, "")
    assert len(err) == 1 and err[0].startswith(f"kb build: the output folder {Path(output)}"), err
    assert REFUSED[output] in err[0] and "pass a new or empty folder with --output DIR" in err[0]
    assert everything(site) == before


def test_a_symlink_is_named_with_where_it_leads(site, capsys, monkeypatch):
    monkeypatch.chdir(site / "content")
    code, err, _ = run(capsys, "build", "--source", "..", "--now", NOW, "--output", "../content-link")
    assert code == 2 and err == [f"kb build: the output folder ../content-link (→ {(site / 'content').resolve()}) "
                                 "is the site's content/ folder, which a build would replace: "
                                 "pass a new or empty folder with --output DIR"]


def test_a_default_output_that_leads_into_the_site_is_refused(site, capsys):
    (site / "output").symlink_to("content")
    code, err, _ = run(capsys, "build", "--source", str(site), "--now", NOW)
    assert code == 2 and "is the site's content/ folder" in err[0]
    assert (site / "content/members.yaml").is_file()


def test_a_new_or_empty_folder_is_built_and_marked_and_built_again_without_the_cache(site, capsys):
    (site / "empty").mkdir()
    for output in ("empty", "new/www"):
        code, err, out = run(capsys, "build", "--source", str(site), "--now", NOW, "--output", str(site / output))
        assert code == 0, err
        assert (site / output / MARK).is_file() and page(site / output, "/").title is not None
        assert "written, 0 unchanged" in out and tree(site / output)[MARK].startswith(b"This folder is written by kb")
    shutil.rmtree(site / CACHE_DIR)  # the mark alone says the folder is kb's
    code, err, out = run(capsys, "build", "--source", str(site), "--now", NOW, "--output", str(site / "empty"))
    assert code == 0, err


def test_outputs_built_before_the_mark_existed_are_still_built(site, capsys):
    """The default output/ of a site built by an earlier version (no mark), and another folder
    the site's cache lists files of, are kb's: built again, and marked."""
    for output in ("output", "elsewhere"):
        assert run(capsys, "build", "--source", str(site), "--now", NOW, "--output", str(site / output))[0] == 0
        (site / output / MARK).unlink()
        (site / output / "index.html").write_bytes(b"changed")
        code, err, out = run(capsys, "build", "--source", str(site), "--now", NOW, "--output", str(site / output))
        assert code == 0, err
        assert "1 written" in out and (site / output / MARK).is_file()
    (site / "elsewhere" / MARK).unlink()
    shutil.move(site / "elsewhere", site / "moved")
    shutil.copytree(site / "moved", site / "elsewhere")  # the curator's copy: no file is the one kb wrote
    code, err, _ = run(capsys, "build", "--source", str(site), "--now", NOW, "--output", str(site / "elsewhere"))
    assert code == 2 and "holds files kb did not write" in err[0]
    shutil.rmtree(site / CACHE_DIR)  # neither mark nor record
    code, err, _ = run(capsys, "build", "--source", str(site), "--now", NOW, "--output", str(site / "moved"))
    assert code == 2 and "holds files kb did not write" in err[0]
    assert run(capsys, "build", "--source", str(site), "--now", NOW)[0] == 0  # output/ is SOURCE/output


def test_the_mark_is_not_counted_and_not_removed(site, capsys):
    assert run(capsys, "build", "--source", str(site), "--now", NOW)[0] == 0
    code, _, out = run(capsys, "build", "--source", str(site), "--now", NOW)
    assert code == 0 and out.startswith("nothing changed since the last build")
    (site / "content/qa/ask.md").write_text((site / "content/qa/ask.md").read_text(encoding="utf-8") + "\nmore\n",
                                            encoding="utf-8")
    code, _, out = run(capsys, "build", "--source", str(site), "--now", NOW)
    assert code == 0 and ", 0 removed)" in out and (site / "output" / MARK).is_file()


# --- symlinks out of the site ------------------------------------------------------------------

def test_static_files_and_templates_that_lead_out_of_the_site_are_skipped_with_a_warning(site, tmp_path, capsys):
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET-OUTSIDE", encoding="utf-8")
    (site / "static/passwd.txt").symlink_to(secret)
    (site / "static/loop").symlink_to(".")
    (site / "static/same-logo.png").symlink_to("img/logo.png")  # inside the site: published
    (site / "static/shared").symlink_to("../other")  # a folder inside the site: published
    (site / "templates/base.html").symlink_to(secret)  # would replace the theme's base.html
    (site / "templates/loop").symlink_to("..")
    code, err, _ = run(capsys, "build", "--source", str(site), "--now", NOW)
    assert code == 0, err
    assert err == [
        "static/loop:1: warning: a symlink back to a folder it is in (a loop); skipped: remove it",
        f"static/passwd.txt:1: warning: points outside the site ({secret}); skipped: "
        "copy what it points at into the folder instead",
        f"templates/base.html:1: warning: points outside the site ({secret}); skipped: "
        "copy what it points at into the folder instead",
        "templates/loop:1: warning: a symlink back to a folder it is in (a loop); skipped: remove it",
    ]
    built = tree(site / "output")
    assert not any(b"SECRET-OUTSIDE" in data for data in built.values())
    assert "passwd.txt" not in built and not any(path.startswith("loop/") for path in built)
    assert built["same-logo.png"] == b"png" and built["shared/notes.txt"] == b"the curator's notes"
    assert page(site / "output", "/").title is not None  # the theme's base.html
    code, err, out = run(capsys, "check", "--source", str(site), "--now", NOW)
    assert code == 0 and len(err) == 4 and out.endswith("4 warnings\n")


def test_a_loop_through_two_folders_is_skipped_once(site, capsys):
    (site / "static/x").mkdir()
    (site / "static/z").mkdir()
    (site / "static/x/y").symlink_to("../z")
    (site / "static/z/w").symlink_to("../x")
    (site / "static/z/file.txt").write_text("z", encoding="utf-8")
    code, err, _ = run(capsys, "build", "--source", str(site), "--now", NOW)
    assert code == 0 and err == ["static/x/y/w:1: warning: a symlink back to a folder it is in (a loop); skipped: remove it",
                                 "static/z/w/y:1: warning: a symlink back to a folder it is in (a loop); skipped: remove it"]
    assert tree(site / "output")["x/y/file.txt"] == b"z"
