"""The CLI run as a user runs it: a subprocess in a scratch copy of a site."""
from __future__ import annotations

from pathlib import Path

import pytest

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
