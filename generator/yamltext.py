"""YAML that keeps line numbers and never guesses types behind the curator's back.

Timestamps stay strings (we parse dates ourselves, with errors that say where),
and every mapping key remembers its line, so an error can point at it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

from .errors import Problem, SourceLocation


class _Loader(yaml.SafeLoader):
    """SafeLoader without the implicit timestamp type: `2026-02-30` must not crash."""


class _FastLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """The same rules on libyaml, when installed: several times faster on valid YAML."""


_Loader.yaml_implicit_resolvers = _FastLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _node_and_data(text: str, loader_class: type) -> tuple:
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        return node, (loader.construct_document(node) if node is not None else None)
    finally:
        loader.dispose()


@dataclass(frozen=True)
class YamlDoc:
    data: Any
    key_lines: dict[tuple, int]  # path of keys/indices -> 1-based line in the file

    def line(self, *path: Any, default: int = 1) -> int:
        while path:
            if path in self.key_lines:
                return self.key_lines[path]
            path = path[:-1]
        return self.key_lines.get((), default)


MAX_NODES = 100_000  # values after expanding aliases: a "billion laughs" file stops here
# Characters XML 1.0 forbids (feeds and sitemaps must stay valid): C0 controls other than
# tab and newline, and the non-characters U+FFFE and U+FFFF.
INVALID_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


_HINTS = (
    ("mapping values are not allowed", ': a value that contains ": " must be in quotes, like title: "A: B"'),
    ("found character '\\t'", ": indent with spaces, not tabs"),
    ("found undefined alias", ": an *alias needs an &anchor defined above it"),
    ("could not find expected ':'", ': write each line as key: value'),
    ("found unexpected end of stream", ': a quote or bracket is not closed'),
    ("expected ',' or ']'", ": a [list] is not closed, or an item needs quotes"),
    ("expected ',' or '}'", ": a {mapping} is not closed, or a value needs quotes"),
    ("did not find expected key", ': check the indentation, or quote a value that starts with [ { " or \''),
    ("expected <block end>", ': check the indentation, or quote a value that starts with [ { " or \''),
)


class _TooBig(Exception):
    pass


def _walk(node: yaml.Node, path: tuple, offset: int, lines: dict[tuple, int], budget: list[int]) -> None:
    budget[0] -= 1
    if budget[0] < 0:
        raise _TooBig
    lines.setdefault(path, node.start_mark.line + 1 + offset)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.start_mark)
            lines[path + (key,)] = key_node.start_mark.line + 1 + offset
            _walk(value_node, path + (key,), offset, lines, budget)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, path + (index,), offset, lines, budget)


def without_invalid_chars(text: str) -> str:
    """Drop control characters pasted from chats: invisible, and fatal to XML outputs."""
    return INVALID_CHARS.sub("", text)


def _cleaned(value: Any) -> Any:
    """The same data with invalid characters removed from every string (keys too)."""
    if isinstance(value, str):
        return without_invalid_chars(value) if INVALID_CHARS.search(value) else value
    if isinstance(value, dict):
        return {_cleaned(k): _cleaned(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_cleaned(v) for v in value]
    return value


def load_yaml(text: str, path: str, line_offset: int = 0) -> YamlDoc:
    """Parse one YAML document; raise `YamlError` that points at the real line."""
    try:
        try:
            node, data = _node_and_data(text, _FastLoader)
        except (yaml.YAMLError, ValueError, RecursionError):  # described by the pure-Python parser's words
            node, data = _node_and_data(text, _Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = (mark.line + 1 if mark else 1) + line_offset
        reason = exc.problem or str(exc)
        opened = exc.context_mark
        if opened and exc.problem_mark and "flow" in (exc.context or "") and opened.line != exc.problem_mark.line:
            # An unclosed [ or { is noticed lines later; point at where it was opened.
            bracket = "[ … ]" if "sequence" in exc.context else "{ … }"
            reason = f"the {bracket} opened here is not closed ({reason} on line {line})"
            line = opened.line + 1 + line_offset
        else:
            reason += next((hint for start, hint in _HINTS if reason.startswith(start)), "")
        raise YamlError(Problem(SourceLocation(path, line), f"invalid YAML: {reason}")) from None
    except RecursionError:
        raise YamlError(Problem(SourceLocation(path, 1 + line_offset),
                                "invalid YAML: nested too deeply; flatten the lists and mappings")) from None
    except (yaml.YAMLError, ValueError, TypeError, OverflowError) as exc:
        raise YamlError(Problem(SourceLocation(path, 1 + line_offset), f"invalid YAML: {exc}")) from None
    lines: dict[tuple, int] = {}
    if node is not None:
        try:
            _walk(node, (), line_offset, lines, [MAX_NODES])
        except RecursionError:  # libyaml composes what Python's recursion cannot walk
            raise YamlError(Problem(SourceLocation(path, 1 + line_offset),
                                    "invalid YAML: nested too deeply; flatten the lists and mappings")) from None
        except _TooBig:
            raise YamlError(Problem(SourceLocation(path, 1 + line_offset),
                                    f"invalid YAML: more than {MAX_NODES:,} values once anchors and aliases (&, *) "
                                    "are expanded; write the values out instead")) from None
    return YamlDoc(_cleaned(data), lines)


class YamlError(Exception):
    def __init__(self, problem: Problem):
        self.problem = problem
        super().__init__(str(problem))
