"""Page keys: a change reaches every page that shows it, and only those."""
from __future__ import annotations

from dataclasses import replace

from generator.build import BuildOptions, load_site
from generator.core.errors import Problems
from generator.derive.digest import site_digests
from generator.derive.related import related_entries
from generator.derive.site import site_pages
from generator.model.records import Body, Member
from generator.render import Renderer
from generator.speed.fingerprint import PURE_FILTERS, TemplateDigests, page_keys, value_digest
from tests.conftest import NOW


def keyed(site, source):
    renderer = Renderer(site, source)
    pages = site_pages(site, related_entries(site, site.config.related_count), site_digests(site))
    return {p.url: k for p, k in zip(pages, page_keys(pages, site, renderer.env, "base"), strict=True)}


def changed(before: dict, after: dict) -> set[str]:
    return {url for url in before.keys() | after.keys() if before.get(url) != after.get(url)}


def loaded(basic_site):
    return load_site(BuildOptions(source=basic_site, now=NOW), Problems(), {})


def test_keys_are_stable_and_complete(basic_site):
    site = loaded(basic_site)
    first, second = keyed(site, basic_site), keyed(loaded(basic_site), basic_site)
    assert first == second
    assert all(first.values())


def test_a_neighbours_title_reaches_its_neighbours_and_lists_only(basic_site):
    site = loaded(basic_site)
    before = keyed(site, basic_site)
    target = site.by_url()["/highlights/rules/"]
    entries = tuple(replace(e, title="新标题") if e is target else e for e in site.entries)
    after = keyed(replace(site, entries=entries), basic_site)
    hit = changed(before, after)
    assert "/highlights/rules/" in hit and "/highlights/meetup/" in hit  # the entry and its neighbour
    assert "/" in hit and "/tags/" not in hit and "/404.html" not in hit


def test_a_members_name_reaches_the_pages_that_show_members(basic_site):
    site = loaded(basic_site)
    before = keyed(site, basic_site)
    members = dict(site.members)
    members["alice"] = replace(members["alice"], name="新名字")
    after = keyed(replace(site, members=members), basic_site)
    hit = changed(before, after)
    assert "/members/alice/" in hit and "/qa/ask/" in hit and "/" in hit
    assert "/tags/" not in hit and "/404.html" not in hit


def test_the_config_reaches_every_page(basic_site):
    site = loaded(basic_site)
    before = keyed(site, basic_site)
    after = keyed(replace(site, config=replace(site.config, footer="页脚")), basic_site)
    assert changed(before, after) == set(before)


def test_a_template_change_reaches_the_pages_that_load_it(basic_site):
    site = loaded(basic_site)
    before = keyed(site, basic_site)
    (basic_site / "templates/partials").mkdir(parents=True)
    (basic_site / "templates/partials/pager.html").write_text("<nav>pager</nav>\n", encoding="utf-8")
    hit = changed(before, keyed(site, basic_site))
    assert "/highlights/" in hit and "/tags/" not in hit and "/qa/ask/" not in hit


def test_a_template_reading_the_whole_site_depends_on_every_entry(basic_site):
    (basic_site / "templates").mkdir()
    (basic_site / "templates/404.html").write_text("{{ site.entries | length }}\n", encoding="utf-8")
    site = loaded(basic_site)
    env = Renderer(site, basic_site).env
    assert TemplateDigests(env).info("404.html").reads_site
    assert not TemplateDigests(env).info("tags.html").reads_site
    before = keyed(site, basic_site)
    after = keyed(replace(site, entries=site.entries[1:]), basic_site)
    assert "/404.html" in changed(before, after)


def test_what_templates_tell_is_kept_for_the_next_build_and_asked_again_when_they_change(basic_site, monkeypatch):
    site = loaded(basic_site)
    first = TemplateDigests(Renderer(site, basic_site).env)
    told = first.info("list.html")
    env = Renderer(site, basic_site).env
    parsed: list[str] = []
    real = env.parse
    monkeypatch.setattr(env, "parse", lambda source, *a, **k: parsed.append(source) or real(source, *a, **k))
    assert TemplateDigests(env, first.used()).info("list.html") == told and parsed == []
    (basic_site / "templates").mkdir()
    (basic_site / "templates/list.html").write_text("{{ site.entries | length }}\n", encoding="utf-8")
    changed_env = Renderer(site, basic_site).env
    again = TemplateDigests(changed_env, first.used()).info("list.html")
    assert again.reads_site and again.digest != told.digest


def test_values_that_cannot_be_serialised_have_no_digest():
    assert value_digest({"f": lambda: 1}) is None
    assert value_digest(Member("a", "A")) == value_digest(Member("a", "A"))
    assert value_digest(Member("a", "A")) != value_digest(Member("a", "B"))


def test_kb_filters_are_known_pure_so_a_digest_page_does_not_depend_on_every_entry(basic_site):
    """An unknown filter makes a page depend on the whole site: a kb filter missing from the list
    would re-render every page that uses it after any edit."""
    renderer = Renderer(loaded(basic_site), basic_site)
    assert set(renderer.env.filters) <= PURE_FILTERS
    for template in ("digest.html", "digest_index.html", "list.html", "entry.html"):
        assert not TemplateDigests(renderer.env).info(template).reads_site, template


def test_an_answers_text_reaches_its_entry_and_its_authors_page(basic_site):
    site = loaded(basic_site)
    before = keyed(site, basic_site)
    target = site.by_url()["/qa/ask/"]
    answers = tuple(replace(a, body=Body(a.html + "<p>补充</p>", a.text + "补充")) for a in target.question.answers)
    edited = replace(target, question=replace(target.question, answers=answers))
    after = keyed(replace(site, entries=tuple(edited if e is target else e for e in site.entries)), basic_site)
    hit = changed(before, after)
    authors = {a.author for a in target.question.answers if a.author in site.members}
    assert authors and "/qa/ask/" in hit and all(f"/members/{who}/" in hit for who in authors)
    assert "/tags/" not in hit and "/404.html" not in hit


def test_derived_context_is_keyed_by_the_members_even_if_the_template_reads_none(basic_site):
    """An entry's JSON-LD names its authors: a site's own entry.html that shows no member still changes."""
    (basic_site / "templates").mkdir()
    (basic_site / "templates/entry.html").write_text("{{ structured_data | tojson_safe }}", encoding="utf-8")
    site = loaded(basic_site)
    before = keyed(site, basic_site)
    members = dict(site.members)
    members["alice"] = replace(members["alice"], name="新名字")
    after = keyed(replace(site, members=members), basic_site)
    assert "/qa/ask/" in changed(before, after)


def test_entry_digests_leave_no_utf8_copy_in_this_process(basic_site, monkeypatch):
    """Pickling a non-ASCII string keeps its UTF-8 encoding inside the string for good: digested
    here, every entry's text would cost twice its size for the rest of the build (90 MB at 10,000)."""
    import sys

    from generator.speed.fingerprint import entry_digest, entry_digests

    monkeypatch.setenv("KB_WORKERS", "2")
    site = loaded(basic_site)
    entries = tuple(replace(e, title=f"{e.title} {n}") for n in range(60 // len(site.entries) + 1) for e in site.entries)
    assert len(entries) >= 48 and any(not e.html.isascii() for e in entries)  # enough for workers; Chinese text
    sizes = [sys.getsizeof(e.html) for e in entries]
    digests = entry_digests(entries)
    assert [sys.getsizeof(e.html) for e in entries] == sizes
    assert [digests[id(e)] for e in entries] == [entry_digest(e) for e in entries]
    assert [sys.getsizeof(e.html) for e in entries] != sizes  # what a digest made here does (the test's premise)


def test_an_entry_is_digested_with_its_documents_key_standing_for_what_it_takes_from_it(basic_site):
    """Ten thousand entries are not pickled on every build: the key of the document an entry came
    from stands for what it takes from that document alone (DOCUMENT_FIELDS: all but its tags).
    An entry whose links were resolved, or that was copied with other values, has no such key and
    is digested whole."""
    from generator.model.records import with_origin
    from generator.speed.fingerprint import entry_digest

    site = loaded(basic_site)
    by_url = site.by_url()
    plain, linking = by_url["/highlights/meetup/"], by_url["/highlights/rules/"]
    assert plain.origin and not linking.origin  # rules.md links to ask.md: its html is not its document's
    assert entry_digest(plain) == entry_digest(loaded(basic_site).by_url()["/highlights/meetup/"])

    edited = replace(plain, body=Body(plain.html + "<p>补充</p>", plain.text))
    assert not edited.origin and entry_digest(edited) != entry_digest(plain)
    # What the document gives is not read when its key is there (what a key promises), the tags are:
    assert entry_digest(with_origin(edited, plain.origin)) == entry_digest(plain)
    assert entry_digest(with_origin(replace(plain, title="新标题"), plain.origin)) == entry_digest(plain)
    assert entry_digest(with_origin(replace(plain, tags=plain.tags[:1]), plain.origin)) != entry_digest(plain)
    assert entry_digest(with_origin(replace(plain, tags=(replace(plain.tags[0], name="别名"), *plain.tags[1:])),
                                    plain.origin)) != entry_digest(plain)
    assert entry_digest(with_origin(replace(plain), "another document")) != entry_digest(plain)
