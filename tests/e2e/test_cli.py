"""The CLI run as a user runs it: a subprocess in a scratch copy of a site."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from generator.commands.cli import main
from tests.conftest import NOW, SITES, copy_example_site, copy_site, run_kb
from tests.helpers import page, tree

INVALID = sorted(p.name for p in (SITES / "invalid").iterdir() if (p / "expected.txt").exists())


def test_build_prints_one_summary_line(basic_site):
    done = run_kb("build", "--source", str(basic_site), "--now", NOW)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("built 5 entries, ")
    assert len(done.stdout.strip().splitlines()) == 1
    assert (basic_site / "output/index.html").is_file()


def test_timings_name_every_stage(basic_site):
    done = run_kb("build", "--source", str(basic_site), "--now", NOW, "--timings")
    assert done.returncode == 0, done.stderr
    stages = dict(part.split("=") for part in done.stderr.strip().splitlines()[-1].removeprefix("timings: ").split())
    assert {"read", "parse", "assemble", "derive", "render", "write"} <= set(stages)
    assert all(seconds.endswith("s") and float(seconds[:-1]) >= 0 for seconds in stages.values())


@pytest.mark.parametrize("command", ["build", "check", "digest", "serve"])
def test_a_folder_that_is_not_a_site_is_named_and_nothing_is_made(tmp_path, command):
    missing, empty = tmp_path / "no-such-site", tmp_path / "empty"
    empty.mkdir()
    done = run_kb(command, "--source", str(missing))
    assert done.returncode == 2 and "no-such-site: no such folder; pass the site's folder with --source DIR" in done.stderr
    done = run_kb(command, "--source", str(empty))
    assert done.returncode == 2 and "not a kb site (it has neither content/ nor site_config.yaml)" in done.stderr
    assert not missing.exists() and list(empty.iterdir()) == []


def test_new_may_start_a_site_in_an_empty_folder(tmp_path):
    done = run_kb("new", "lessons", "第一课", "--slug", "first", "--source", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "content/lessons/first.md").is_file()
    assert run_kb("build", "--source", str(tmp_path), "--now", NOW).returncode == 0


def test_python_dash_m_and_help_for_every_command():
    for command in ("build", "check", "new"):
        done = run_kb(command, "--help")
        assert done.returncode == 0 and "usage: kb " + command in done.stdout
    assert "build" in run_kb("--help").stdout


@pytest.mark.parametrize("case", INVALID)
def test_invalid_site_fails_with_path_line_and_keeps_output(case, tmp_path):
    site = copy_site(f"invalid/{case}", tmp_path)
    expected = (site / "expected.txt").read_text(encoding="utf-8").splitlines()
    output = site / "output"
    output.mkdir()
    (output / "index.html").write_text("the previous site", encoding="utf-8")
    before = tree(output)
    done = run_kb("build", "--source", str(site), "--now", NOW)
    assert done.returncode == 1
    problems = [line for line in done.stderr.splitlines() if not line.startswith("build failed")]
    assert problems == expected
    assert tree(output) == before
    assert sorted(p.name for p in site.iterdir() if p.name.startswith((".kb-tmp-", ".kb-old-"))) == []


def test_check_reports_without_writing(tmp_path):
    site = copy_site("invalid/impossible-date", tmp_path)
    done = run_kb("check", "--source", str(site), "--now", NOW)
    assert done.returncode == 1
    assert done.stderr.splitlines()[0] == (site / "expected.txt").read_text(encoding="utf-8").strip()
    assert not (site / "output").exists()


def test_two_builds_are_byte_identical(basic_site, tmp_path):
    first, second = tmp_path / "one", tmp_path / "two"
    assert run_kb("build", "--source", str(basic_site), "--output", str(first), "--now", NOW).returncode == 0
    assert run_kb("build", "--source", str(basic_site), "--output", str(second), "--now", NOW).returncode == 0
    assert tree(first) == tree(second)


def test_source_date_epoch_fixes_now(basic_site, tmp_path):
    # 2026-11-16 20:00 in Shanghai: the question of the 18th is still scheduled.
    done = run_kb("build", "--source", str(basic_site), env={"SOURCE_DATE_EPOCH": "1794830400"})
    assert done.returncode == 0 and done.stdout.startswith("built 4 entries")


def test_drafts_flag(basic_site):
    done = run_kb("build", "--source", str(basic_site), "--drafts", "--now", NOW)
    assert done.stdout.startswith("built 6 entries")
    assert page(basic_site / "output", "/lessons/draft/").find("h1").get_text() == "还没写完"


def test_base_url_flag(basic_site):
    run_kb("build", "--source", str(basic_site), "--base-url", "https://other.org/", "--now", NOW)
    assert page(basic_site / "output", "/").find("link", rel="canonical")["href"] == "https://other.org/"


def test_new_creates_an_entry_that_builds(basic_site):
    done = run_kb("new", "qa", "新人进群后 如何破冰？", "--source", str(basic_site))
    assert done.returncode == 0, done.stderr
    path = Path(done.stdout.strip())
    assert path == basic_site / "content/qa/新人进群后-如何破冰？.md"
    text = path.read_text(encoding="utf-8")
    assert text.startswith('---\ntitle: "新人进群后 如何破冰？"\ndate: ')
    assert run_kb("new", "qa", "新人进群后 如何破冰？", "--source", str(basic_site)).returncode == 1
    assert run_kb("new", "lessons", "Python 入门", "--slug", "python-101", "--source", str(basic_site)).stdout.strip().endswith("lessons/python-101.md")
    built = run_kb("build", "--source", str(basic_site))
    assert built.returncode == 0, built.stderr


def test_new_rejects_unknown_section(basic_site):
    done = run_kb("new", "blog", "x", "--source", str(basic_site))
    assert done.returncode == 2 and "invalid choice" in done.stderr


def test_unknown_config_key_fails_build(basic_site):
    config = basic_site / "site_config.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "titel: x\n", encoding="utf-8")
    done = run_kb("build", "--source", str(basic_site))
    assert done.returncode == 1
    assert done.stderr.splitlines()[0] == 'site_config.yaml:7: unknown option "titel" (did you mean "title"?)'


def test_example_site_builds_every_contract_page(tmp_path):
    """The repository's own example site, copied so the test never writes into the repo."""
    site = copy_example_site(tmp_path / "example")
    done = run_kb("build", "--source", str(site), "--now", NOW, "--strict")
    assert done.returncode == 0, done.stderr
    out = site / "output"
    for url in ["/", "/highlights/", "/qa/", "/lessons/", "/tags/", "/members/", "/archive/"]:
        assert page(out, url).find("h1"), url
    assert (out / "404.html").is_file() and (out / "sitemap.xml").is_file() and (out / "robots.txt").is_file()


# --- hostile values: exit 2 and a line that says what is wrong and what to write --------------

HOSTILE = [  # (command and its values, environment, what the last line of stderr says)
    (["build", "--now", "9999-12-31"], {}, 'argument --now: "9999-12-31" is after 2100, so it looks like a mistyped year'),
    (["check", "--now", "0001-01-01"], {}, 'argument --now: "0001-01-01" is before 1970, so it looks like an unset date'),
    (["digest", "--now", "2026-11-21T12:00+99:00"], {}, "is not a valid date-time: write it as 2026-11-03 21:30"),
    (["digest", "--week", "0001-W01"], {}, '"0001-W01" is not a week kb can show (kb takes years 1970 to 2100): write it as 2026-W47'),
    (["digest", "--week", "0000-W01"], {}, '"0000-W01" is not a week kb can show'),
    (["digest", "--week", "2026-W54"], {}, "argument --week: 2026 has no week 54: its weeks are 2026-W01 to 2026-W53"),
    (["build", "--base-url", "javascript:x"], {}, '"javascript:x" is not an absolute http(s) URL: write it as https://kb.example.org/'),
    (["build", "--base-url", "http://[x"], {}, '"http://[x" is not an absolute http(s) URL'),
    (["build", "--base-url", "https://kb.example.org:99999/"], {}, "is not an absolute http(s) URL"),
    (["build"], {"SOURCE_DATE_EPOCH": "abc"}, 'SOURCE_DATE_EPOCH="abc" is not a time kb takes: set it to whole seconds since 1970-01-01 00:00 UTC'),
    (["check"], {"SOURCE_DATE_EPOCH": "-1"}, 'SOURCE_DATE_EPOCH="-1" is not a time kb takes'),
    (["digest"], {"SOURCE_DATE_EPOCH": "1.5e9"}, 'SOURCE_DATE_EPOCH="1.5e9" is not a time kb takes'),
    (["build"], {"SOURCE_DATE_EPOCH": "9" * 30}, "is not a time kb takes"),
    (["check"], {"KB_WORKERS": "²"}, 'KB_WORKERS="²" is not a number of worker processes: set it to a whole number from 1 to 512'),
    (["build"], {"KB_WORKERS": "100000000000"}, 'KB_WORKERS="100000000000" is not a number of worker processes'),
    (["serve", "--host", "ä" * 70], {}, 'is not a host name or address: write one such as 127.0.0.1, 0.0.0.0 (every address)'),
    (["serve", "--host", "a\udcffb"], {}, 'argument --host: "a\\xffb" is not a host name or address'),
    (["build", "--base-url", "https://kb.example.org/\udcff"], {}, 'argument --base-url: "https://kb.example.org/\\xff" is not'),
    (["new", "qa", "a\x01b"], {}, "kb new: the title holds a control character (U+0001): type it without"),
    (["new", "qa", "x", "--slug", "a\udcffb"], {}, "kb new: the --slug is not UTF-8 text"),
]


@pytest.mark.parametrize(("argv", "environ", "said"), HOSTILE, ids=lambda v: str(v)[:40])
def test_a_hostile_value_is_exit_2_with_one_line_saying_the_fix(basic_site, capsys, monkeypatch, argv, environ, said):
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    before = tree(basic_site)
    try:
        code = main([*argv, "--source", str(basic_site)])
    except SystemExit as exc:  # argparse's way to say a value is wrong
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2, err
    assert said in err.splitlines()[-1] and err.splitlines()[-1].startswith(f"kb {argv[0]}: ")
    assert "Traceback" not in err and tree(basic_site) == before
    if environ:  # not argparse's: no usage lines, the one line alone
        assert len(err.splitlines()) == 1


def test_a_source_that_is_a_file_or_not_utf8_is_named(tmp_path, capsys):
    file = tmp_path / "notes.txt"
    file.write_text("x", encoding="utf-8")
    odd = tmp_path / os.fsdecode(b"site-\xff")
    shutil.copytree(SITES / "basic", odd)
    for argv in (["build"], ["check"], ["new", "qa", "x"]):
        assert main([*argv, "--source", str(file)]) == 2
        assert capsys.readouterr().err == f"kb {argv[0]}: {file}: a file, not a folder; pass the site's folder with --source DIR\n"
        assert main([*argv, "--source", str(odd)]) == 2
        assert "the folder's path is not UTF-8 text; move the site to a folder whose path is" in capsys.readouterr().err
    assert file.read_text(encoding="utf-8") == "x" and not (odd / "output").exists()


@pytest.mark.parametrize(("values", "environ", "said"), [
    (["--port", "70000"], {}, 'argument --port: "70000" is not a port: write a number from 1 to 65535, or 0 for a free one'),
    (["--port", "-1"], {}, 'argument --port: "-1" is not a port'),
    (["--now", "garbage"], {}, 'argument --now: "garbage" is not a date: write it as 2026-11-03'),
    (["--port", "0"], {"SOURCE_DATE_EPOCH": "abc"}, 'kb serve: SOURCE_DATE_EPOCH="abc" is not a time kb takes'),
])
def test_serve_checks_its_values_before_it_starts(basic_site, values, environ, said):
    done = run_kb("serve", "--source", str(basic_site), *values, env=environ, timeout=20)
    assert done.returncode == 2 and said in done.stderr.splitlines()[-1] and "Traceback" not in done.stderr


def test_a_source_too_long_for_the_disk_is_named_in_one_short_line(tmp_path, capsys):
    long = tmp_path / ("a" * 300)
    for argv in (["build"], ["check"], ["digest"], ["new", "qa", "x"]):
        assert main([*argv, "--source", str(long)]) == 2
        err = capsys.readouterr().err
        assert err.endswith(": File name too long; pass the site's folder with --source DIR\n") and len(err) < 300, err


def test_new_says_when_a_file_stands_where_its_folder_goes(basic_site, capsys):
    (basic_site / "content/highlights").rename(basic_site / "highlights-away")
    (basic_site / "content/highlights").write_text("not a folder", encoding="utf-8")
    assert main(["new", "highlights", "x", "--source", str(basic_site)]) == 1
    assert capsys.readouterr().err == f"kb new: cannot make the folder {basic_site}/content/highlights: a file is in the way\n"
    assert (basic_site / "content/highlights").read_text(encoding="utf-8") == "not a folder"
