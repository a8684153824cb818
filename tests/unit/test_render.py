import json

import pytest

from generator.build import BuildOptions, build
from generator.core.errors import SiteError
from generator.model.pages import output_path
from generator.render import json_for_script
from tests.conftest import NOW
from tests.helpers import page


def test_output_paths():
    assert output_path("/") == "index.html"
    assert output_path("/qa/x/") == "qa/x/index.html"
    assert output_path("/feed.xml") == "feed.xml"


def test_json_for_script_cannot_close_the_script():
    text = str(json_for_script({"title": "</script><script>alert(1)</script>\u2028"}))
    assert "<" not in text and "\u2028" not in text
    assert json.loads(text) == {"title": "</script><script>alert(1)</script>\u2028"}


def test_site_templates_override_the_theme(basic_site):
    (basic_site / "templates").mkdir()
    (basic_site / "templates/404.html").write_text("{% extends 'base.html' %}{% block content %}<h1>走丢了</h1>{% endblock %}", encoding="utf-8")
    build(BuildOptions(source=basic_site, now=NOW))
    assert page(basic_site / "output", "/404.html").find("h1").get_text() == "走丢了"


def test_template_errors_name_the_template_and_line(basic_site):
    (basic_site / "templates").mkdir()
    (basic_site / "templates/404.html").write_text("{% extends 'base.html' %}\n{% block content %}\n{{ no_such_thing }}\n{% endblock %}\n", encoding="utf-8")
    with pytest.raises(SiteError) as caught:
        build(BuildOptions(source=basic_site, now=NOW))
    message = str(caught.value.problems[0])
    assert message.endswith("templates/404.html:3: template error while rendering /404.html: UndefinedError: 'no_such_thing' is undefined")


def test_template_syntax_error(basic_site):
    (basic_site / "templates").mkdir()
    (basic_site / "templates/404.html").write_text("{% extends 'base.html' %}\n{% block content %}\n{% if %}\n", encoding="utf-8")
    with pytest.raises(SiteError) as caught:
        build(BuildOptions(source=basic_site, now=NOW))
    assert ":3: template error:" in str(caught.value.problems[0])


def test_english_site_uses_english_strings(basic_site):
    config = basic_site / "site_config.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("language: zh-CN", "language: en"), encoding="utf-8")
    build(BuildOptions(source=basic_site, now=NOW))
    home = page(basic_site / "output", "/")
    assert home.find("html")["lang"] == "en"
    assert [a.get_text() for a in home.select(".site-nav a")][:3] == ["Highlights", "Q&A", "Lessons"]
    assert page(basic_site / "output", "/highlights/rules/").find("time").get_text() == "November 2, 2026"


def test_a_fragment_is_rendered_once_per_key(basic_site):
    from generator.build import load_site
    from generator.core.errors import Problems
    from generator.render import Renderer

    renderer = Renderer(load_site(BuildOptions(source=basic_site, now=NOW), Problems(), {}), basic_site)
    template = renderer.env.from_string("{% call fragment('part', key) %}<b>{{ tick() }}</b>{% endcall %}")
    ticks = iter(range(1, 10))
    tick = lambda: next(ticks)  # noqa: E731
    shown = [template.render(key=key, tick=tick) for key in ("a", "a", "b", "a", "b")]
    assert shown == ["<b>1</b>", "<b>1</b>", "<b>2</b>", "<b>1</b>", "<b>2</b>"]


def test_the_header_marks_the_section_of_each_page(basic_site):
    build(BuildOptions(source=basic_site, now=NOW))
    output = basic_site / "output"
    for url, current in (("/", []), ("/qa/", ["/qa/"]), ("/highlights/rules/", ["/highlights/"]),
                         ("/tags/", ["/tags/"]), ("/digest/", ["/digest/"]), ("/search/", [])):
        nav = page(output, url).select(".site-nav a[aria-current]")
        assert [a["href"].removeprefix("/kb") for a in nav] == current, url
    assert page(output, "/search/").select(".site-header .search-box") == []
    assert page(output, "/qa/").select(".site-header .search-box") != []


def test_a_template_problem_comes_back_whole_from_a_worker():
    import pickle

    from generator.core.errors import Problem, SourceLocation
    from generator.render import TemplateProblem

    problem = Problem(SourceLocation("templates/x.html", 3), "template error: boom")
    again = pickle.loads(pickle.dumps(TemplateProblem(problem)))
    assert again.problem == problem and str(again) == str(problem)
