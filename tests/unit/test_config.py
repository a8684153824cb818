from pathlib import Path

import pytest

from generator.config import SiteConfig, load_config
from generator.core.errors import Problems, SiteError


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


def test_an_option_given_twice_is_an_error_naming_both_lines(tmp_path):
    with pytest.raises(SiteError) as caught:
        load_config(write_config(tmp_path, "title: 一\nlanguage: en\ntitle: 二\n"))
    assert messages(caught.value) == ['site_config.yaml:3: "title" is given twice, on lines 1 and 3: keep one']


def test_a_lone_surrogate_is_an_error_and_a_control_character_a_warning(tmp_path):
    with pytest.raises(SiteError) as caught:
        load_config(write_config(tmp_path, 'title: "群\\uD800"\nfooter: "页脚\\x07"\n'))
    assert messages(caught.value) == [
        'site_config.yaml:1: "title" contains \\uD800, half of a character pair: remove it or write the whole character',
        'site_config.yaml:2: warning: "footer" contains the control character \\x07, which is left out: remove it']
    problems = Problems()
    config = load_config(write_config(tmp_path, 'footer: "页脚\\x07"\n'), problems=problems)
    assert config.footer == "页脚" and [p.severity for p in problems.items] == ["warning"]


def test_a_config_that_is_not_utf8_is_an_error_and_utf16_with_its_mark_a_warning(tmp_path):
    (tmp_path / "site_config.yaml").write_bytes("title: 我们的群\n".encode("gb18030"))
    with pytest.raises(SiteError) as caught:
        load_config(tmp_path)
    assert messages(caught.value) == ["site_config.yaml:1: this file is not UTF-8 (first seen on this line); it looks like "
                                      "GB18030 (GBK): save it as UTF-8, e.g. with iconv -f GB18030 -t UTF-8"]
    (tmp_path / "site_config.yaml").write_bytes("title: 我们的群\n".encode("utf-16"))
    problems = Problems()
    assert load_config(tmp_path, problems=problems).title == "我们的群"
    assert [str(p) for p in problems.items] == ["site_config.yaml:1: warning: this file is UTF-16; it was read as such, "
                                                "but save it as UTF-8, e.g. with iconv -f UTF-16 -t UTF-8"]


def test_tag_aliases_are_text_to_text(tmp_path):
    with pytest.raises(SiteError) as caught:
        load_config(write_config(tmp_path, "tag_aliases:\n  活动: [线下活动]\n  经验: {a: 1}\n  2024: 二〇二四\n"))
    assert messages(caught.value) == [
        'site_config.yaml:2: tag_aliases: write each as "alias": "tag", both text, not a list',
        'site_config.yaml:3: tag_aliases: write each as "alias": "tag", both text, not a mapping (key: value)']


def test_a_config_that_links_outside_the_site_is_not_read(tmp_path):
    outside = tmp_path / "secret.yaml"
    outside.write_text("title: 别处的标题\n", encoding="utf-8")
    site = tmp_path / "site"
    site.mkdir()
    (site / "site_config.yaml").symlink_to(outside)
    problems = Problems()
    assert load_config(site, problems=problems) == SiteConfig()
    assert [str(p) for p in problems.items] == ["site_config.yaml:1: warning: points outside the site, so it is not read"]


@pytest.mark.parametrize("url", ["http://[x", "https://[::1/", "javascript:alert(1)", "kb.example.org"])
def test_a_base_url_that_is_not_a_url_is_an_error_at_its_line(tmp_path, url):
    with pytest.raises(SiteError) as caught:
        load_config(write_config(tmp_path, f'title: t\nbase_url: "{url}"\n'))
    assert messages(caught.value) == [f"site_config.yaml:2: base_url must be an absolute http(s) URL such as "
                                      f'"https://kb.example.org/", not {url!r}']
