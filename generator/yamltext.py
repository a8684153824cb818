"""YAML that keeps line numbers and never guesses types behind the curator's back.

Timestamps stay strings (we parse dates ourselves, with errors that say where),
and every mapping key remembers its line, so an error can point at it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from .errors import Problem, SourceLocation


class _Loader(yaml.SafeLoader):
    """SafeLoader without the implicit timestamp type: `2026-02-30` must not crash."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


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


def _walk(node: yaml.Node, path: tuple, offset: int, lines: dict[tuple, int]) -> None:
    lines.setdefault(path, node.start_mark.line + 1 + offset)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.start_mark)
            lines[path + (key,)] = key_node.start_mark.line + 1 + offset
            _walk(value_node, path + (key,), offset, lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, path + (index,), offset, lines)


def load_yaml(text: str, path: str, line_offset: int = 0) -> YamlDoc:
    """Parse one YAML document; raise `YamlError` that points at the real line."""
    try:
        node = yaml.compose(text, Loader=_Loader)
        data = yaml.load(text, Loader=_Loader) if node is not None else None
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
        raise YamlError(Problem(SourceLocation(path, line), f"invalid YAML: {reason}")) from None
    except (yaml.YAMLError, ValueError, RecursionError) as exc:
        raise YamlError(Problem(SourceLocation(path, 1 + line_offset), f"invalid YAML: {exc}")) from None
    lines: dict[tuple, int] = {}
    if node is not None:
        _walk(node, (), line_offset, lines)
    return YamlDoc(data, lines)


class YamlError(Exception):
    def __init__(self, problem: Problem):
        self.problem = problem
        super().__init__(str(problem))
