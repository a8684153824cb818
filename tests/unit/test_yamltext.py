import time

import pytest

from generator.yamltext import MAX_NODES, YamlError, load_yaml


def problem(text: str, offset: int = 0) -> str:
    with pytest.raises(YamlError) as caught:
        load_yaml(text, "f.yaml", line_offset=offset)
    return str(caught.value.problem)


def test_lines_of_keys_and_list_items_with_offset():
    doc = load_yaml("title: x\ntags:\n  - a\n  - b\n", "f.md", line_offset=1)
    assert (doc.line("title"), doc.line("tags"), doc.line("tags", 1), doc.line("nope")) == (2, 3, 5, 2)


def test_dates_stay_text():
    assert load_yaml("date: 2026-02-30\n", "f").data == {"date": "2026-02-30"}


def test_alias_bomb_is_refused_quickly():
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 9) + "]")
    started = time.perf_counter()
    message = problem("\n".join(lines), offset=1)
    assert message == (f"f.yaml:2: invalid YAML: more than {MAX_NODES:,} values once anchors and aliases (&, *) "
                       "are expanded; write the values out instead")
    assert time.perf_counter() - started < 5


def test_a_few_aliases_are_fine():
    assert load_yaml("base: &b {name: x}\nother: *b\n", "f").data == {"base": {"name": "x"}, "other": {"name": "x"}}


def test_deep_nesting_is_a_clean_error():
    assert problem("a: " + "[" * 5000 + "]" * 5000) == "f.yaml:1: invalid YAML: nested too deeply; flatten the lists and mappings"


def test_control_characters_are_dropped_from_values_and_keys():
    assert load_yaml('t: "a\\x08b\\x00c\\x1b"\n"k\\x0c": "\\ufffe"\n', "f").data == {"t": "abc", "k": ""}


@pytest.mark.parametrize("text, message", [
    ("title: a: b\n", 'f.yaml:1: invalid YAML: mapping values are not allowed here: a value that contains ": " must be in quotes, like title: "A: B"'),
    ("a:\n\tb: c\n", "f.yaml:2: invalid YAML: found character '\\t' that cannot start any token: indent with spaces, not tabs"),
    ("a: *nothing\n", "f.yaml:1: invalid YAML: found undefined alias 'nothing': an *alias needs an &anchor defined above it"),
    ('a: "open\n', "f.yaml:2: invalid YAML: found unexpected end of stream: a quote or bracket is not closed"),
])
def test_common_mistakes_come_with_a_hint(text, message):
    assert problem(text) == message
