from pathlib import Path

import pytest

from generator.config import SiteConfig, load_config
from generator.errors import SiteError


def write_config(tmp_path: Path, text: str) -> Path:
    (tmp_path / "site_config.yaml").write_text(text, encoding="utf-8")
    return tmp_path


def messages(exc: SiteError) -> list[str]:
    return [str(p) for p in exc.problems]


def test_defaults_when_file_is_missing(tmp_path):
    config = load_config(tmp_path)
    assert config == SiteConfig()
    assert config.language == "zh-CN" and config.timezone == "Asia/Shanghai" and config.week_start == 1


def test_values_are_read_and_base_url_gets_a_slash(tmp_path):
    config = load_config(write_config(tmp_path, "title: 我们的群\nbase_url: https://x.org/kb\nlanguage: en\nweek_start: Monday\n"))
    assert config.title == "我们的群"
    assert config.base_url == "https://x.org/kb/"
    assert config.base_path == "/kb/"
    assert config.absolute("/qa/x/") == "https://x.org/kb/qa/x/"
    assert config.language == "en" and config.week_start == 1


def test_unknown_key_suggests_the_right_one_with_its_line(tmp_path):
    with pytest.raises(SiteError) as caught:
        load_config(write_config(tmp_path, "title: x\n\ntimezon: Asia/Shanghai\n"))
    assert messages(caught.value) == ['site_config.yaml:3: unknown option "timezon" (did you mean "timezone"?)']


def test_every_problem_is_reported_at_once(tmp_path):
    text = "language: fr\ntimezone: Mars/Olympus\nper_page: zero\nbase_url: kb.example.org\n"
    with pytest.raises(SiteError) as caught:
        load_config(write_config(tmp_path, text))
    got = messages(caught.value)
    assert got[0].startswith("site_config.yaml:1: language must be one of zh-CN, en")
    assert got[1].startswith("site_config.yaml:2: unknown timezone")
    assert got[2].startswith('site_config.yaml:3: "per_page" must be a whole number')
    assert got[3].startswith("site_config.yaml:4: base_url must be an absolute")


def test_bad_yaml_points_at_its_line(tmp_path):
    with pytest.raises(SiteError) as caught:
        load_config(write_config(tmp_path, "title: x\nbase_url: [unclosed\n"))
    assert messages(caught.value)[0].startswith("site_config.yaml:2: invalid YAML: the [ … ] opened here is not closed")


def test_booleans_are_not_numbers(tmp_path):
    with pytest.raises(SiteError):
        load_config(write_config(tmp_path, "per_page: true\n"))


def test_config_is_frozen():
    with pytest.raises(AttributeError):
        SiteConfig().title = "x"  # type: ignore[misc]
