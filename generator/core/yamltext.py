"""YAML that keeps line numbers and never guesses types behind the curator's back.

Timestamps stay strings (we parse dates ourselves, with errors that say where),
and every mapping key remembers its line, so an error can point at it. Nothing
is lost without a word: a key given twice and a lone surrogate are errors, a
control character is left out with a warning (`YamlDoc.problems`). Files are
decoded here too (`file_text`): every file kb reads goes through one decoder.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from .errors import Problem, SourceLocation
from .paths import is_within, site_roots


class _Loader(yaml.SafeLoader):
    """SafeLoader without the implicit timestamp type: `2026-02-30` must not crash."""


class _FastLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """The same rules on libyaml, when installed: several times faster on valid YAML."""


_Loader.yaml_implicit_resolvers = _FastLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _node_and_data(text: str, loader_class: type, path: str, offset: int) -> tuple:
    """(node, data, problems of the node as written, whether a string needs repair). The node is
    checked before it is constructed, which merges `<<: *anchor` keys into its mappings and so
    hides which keys were written twice."""
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, None, [], False
        problems, suspect = _written_problems(node, path, offset)
        return node, loader.construct_document(node), problems, suspect
    finally:
        loader.dispose()


@dataclass(frozen=True)
class YamlDoc:
    data: Any
    key_lines: dict[tuple, int]  # path of keys/indices -> 1-based line in the file
    problems: tuple[Problem, ...] = ()  # keys given twice, lone surrogates, control characters: the caller reports them

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
# Half of a UTF-16 pair with no other half: no encoder can write it out. A YAML "\uD800"
# escape makes one; two escapes that make a whole pair ("\uD83D\uDE00", as JSON writes
# emoji) are that character.
LONE_SURROGATE = re.compile("[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]")
_SUSPECT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
_PAST_UNICODE = re.compile(r"\\U(?!0010|000)[0-9A-Fa-f]{8}")  # a "\U" escape past U+10FFFF
_MERGE_TAG = "tag:yaml.org,2002:merge"
_STR_TAG = "tag:yaml.org,2002:str"


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


# --- Files --------------------------------------------------------------------------------


def load_yaml_file(site_root: Path, rel: str) -> YamlDoc | None:
    """The site's YAML file `rel`, its problems those of reading it too; None when there is none.

    A link that resolves outside the site is not read (a warning): kb reads nothing from outside.
    """
    path = os.path.join(site_root, rel)
    if os.path.islink(path) and not is_within(os.path.realpath(path), site_roots(site_root)):
        return YamlDoc(None, {}, (Problem(SourceLocation(rel, 1), "points outside the site, so it is not read", "warning"),))
    try:
        with open(path, "rb") as file:
            data = file.read()
    except FileNotFoundError:
        return None
    text, problems = file_text(data, rel)
    doc = load_yaml(text, rel)
    return replace(doc, problems=tuple(sorted(problems + list(doc.problems)))) if problems else doc


_BOMS = ((b"\xff\xfe\x00\x00", "UTF-32"), (b"\x00\x00\xfe\xff", "UTF-32"),
         (b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16"))


def utf8_text(data: bytes) -> str:
    """A UTF-8 file's text, newlines as "\\n", without a byte-order mark; UnicodeDecodeError if not UTF-8."""
    text = data.decode("utf-8")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text.startswith("\ufeff"):
        text = text[1:]
    return text


def file_text(data: bytes, path: str) -> tuple[str, list[Problem]]:
    """A file's text, and what reading it left out or could not do.

    UTF-8 is decoded strictly first, so a valid file costs what it always did. A UTF-16 or
    UTF-32 file that starts with its byte-order mark is unambiguous: read, with a warning to
    save it as UTF-8. Other bytes are an error (and the text is empty) naming the line of the
    first byte that is not UTF-8 and the encoding they look like: the bytes of GB18030 (GBK)
    cannot be told from EUC-KR's or EUC-JP's, nor by statistics on an entry of a few lines
    (charset-normalizer calls a short GBK entry Big5), so kb never publishes a guess.
    Control characters, invisible and not allowed in XML feeds, are left out with a warning.
    """
    problems: list[Problem] = []
    try:
        text = utf8_text(data)
    except UnicodeDecodeError as exc:
        text, problem = _not_utf8(data, path, exc)
        problems.append(problem)
    found = INVALID_CHARS.search(text)
    if found:
        count = len(INVALID_CHARS.findall(text))
        more = f" ({count} in the file)" if count > 1 else ""
        problems.append(Problem(SourceLocation(path, text.count("\n", 0, found.start()) + 1),
                                f"the control character {_escaped(found.group())} is left out{more}: remove it",
                                "warning"))
        text = without_invalid_chars(text)
    return text, problems


def _not_utf8(data: bytes, path: str, exc: UnicodeDecodeError) -> tuple[str, Problem]:
    """(text, warning) of a file with a byte-order mark, else ("", the error that says what it looks like)."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            try:
                text = utf8_text(data.decode(name.lower()).encode("utf-8"))
            except UnicodeError:
                return "", Problem(SourceLocation(path, 1), f"this file starts as {name} but is damaged: save it as UTF-8")
            return text, Problem(SourceLocation(path, 1), f"this file is {name}; it was read as such, but save it as "
                                                          f"UTF-8, e.g. with iconv -f {name} -t UTF-8", "warning")
    line = data.count(b"\n", 0, exc.start) + 1
    looks = _looks_like(data)
    if looks == "UTF-8":
        return "", Problem(SourceLocation(path, line), "this file is UTF-8 but for a damaged character on this line: "
                                                       "retype it")
    if looks.startswith("UTF-16"):
        return "", Problem(SourceLocation(path, 1), f"this file looks like {looks} without a byte-order mark: "
                                                    f"save it as UTF-8, e.g. with iconv -f {looks} -t UTF-8")
    if not looks:
        return "", Problem(SourceLocation(path, line), "this file is not UTF-8 (first seen on this line): save it as UTF-8")
    return "", Problem(SourceLocation(path, line), f"this file is not UTF-8 (first seen on this line); it looks like "
                                                   f"{looks}: save it as UTF-8, e.g. with iconv -f {looks.split()[0]} -t UTF-8")


def _looks_like(data: bytes) -> str:
    """The encoding a file that is not UTF-8 looks like, for a hint ("": none that kb can name)."""
    if data.count(b"\x00") * 4 > len(data):  # ASCII text in UTF-16: every other byte is zero
        return "UTF-16LE" if data[1::2].count(b"\x00") > data[0::2].count(b"\x00") else "UTF-16BE"
    lenient = data.decode("utf-8", errors="replace")
    damaged = lenient.count("\ufffd")
    if sum(ch > "\x7f" for ch in lenient) - damaged > damaged:  # more whole characters than broken ones
        return "UTF-8"
    for encoding, name in (("gb2312", "GB18030 (GBK)"), ("big5", "Big5"), ("gb18030", "GB18030 (GBK)"),
                           ("shift_jis", "Shift_JIS"), ("cp1252", "Windows-1252")):
        try:
            data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return name
    return ""


def _written_problems(root: yaml.Node, path: str, offset: int) -> tuple[list[Problem], bool]:
    """Keys given twice in a mapping, and strings (keys too) holding a lone surrogate or a control
    character, as written: each node once, however many aliases refer to it; and whether any
    string needs `_repaired`."""
    problems: list[Problem] = []
    suspect = False  # a string to repair (see `_repaired`)
    seen: set[int] = set()
    keys: list = []  # a constructor, for what `1` and `01`, `yes` and `true` are as keys
    stack: list[tuple[yaml.Node, str | None]] = [(root, "")]  # (node, the key it is under; None: a key)
    while stack:
        node, name = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.ScalarNode):
            if _SUSPECT.search(node.value):
                suspect = True
                problems.extend(_char_problems(node, name, path, offset))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, name) for item in node.value)
        elif isinstance(node, yaml.MappingNode):
            first: dict[Any, int] = {}
            for key_node, value_node in node.value:
                stack.append((key_node, None))
                stack.append((value_node, key_node.value if isinstance(key_node, yaml.ScalarNode) else name))
                if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _MERGE_TAG:
                    continue
                line = key_node.start_mark.line + 1 + offset
                try:
                    key = key_node.value if key_node.tag == _STR_TAG else _key_of(key_node, keys)
                    earlier = first.get(key)
                except (yaml.YAMLError, TypeError, ValueError):  # reported when the mapping is constructed
                    continue
                if earlier is None:
                    first[key] = line
                else:
                    lines = f"on lines {earlier} and {line}" if earlier != line else f"on line {line}"
                    problems.append(Problem(SourceLocation(path, line),
                                            f'"{_repaired(key_node.value)}" is given twice, {lines}: keep one'))
    return problems, suspect


def _key_of(node: yaml.ScalarNode, constructor: list) -> Any:
    if not constructor:
        constructor.append(yaml.constructor.SafeConstructor())
    return constructor[0].construct_object(node)


def _char_problems(node: yaml.ScalarNode, name: str | None, path: str, offset: int) -> list[Problem]:
    where = "a key" if name is None else f'"{_repaired(name)}"' if name else "a value"
    line = node.start_mark.line + 1 + offset
    problems = []
    lone = LONE_SURROGATE.search(node.value)
    if lone:
        problems.append(Problem(SourceLocation(path, line),
                                f"{where} contains \\u{ord(lone.group()):04X}, half of a character pair: "
                                "remove it or write the whole character"))
    control = INVALID_CHARS.search(node.value)
    if control:
        problems.append(Problem(SourceLocation(path, line),
                                f"{where} contains the control character {_escaped(control.group())}, which is left out: "
                                "remove it", "warning"))
    return problems


def _escaped(char: str) -> str:
    return f"\\x{ord(char):02X}" if ord(char) < 0x100 else f"\\u{ord(char):04X}"


def _repaired(text: str) -> str:
    """The text with control characters left out, whole pairs of surrogates made the character
    they stand for, and a lone one U+FFFD (it is an error: see `_char_problems`)."""
    text = LONE_SURROGATE.sub("\ufffd", INVALID_CHARS.sub("", text))
    if _SUSPECT.search(text):
        text = text.encode("utf-16", "surrogatepass").decode("utf-16")
    return text


def _cleaned(value: Any) -> Any:
    """The same data with every string (keys too) `_repaired`."""
    if isinstance(value, str):
        return _repaired(value) if _SUSPECT.search(value) else value
    if isinstance(value, dict):
        return {_cleaned(k): _cleaned(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_cleaned(v) for v in value]
    return value


def load_yaml(text: str, path: str, line_offset: int = 0) -> YamlDoc:
    """Parse one YAML document; raise `YamlError` that points at the real line when it cannot be read.

    A document that can be read but loses something (a key given twice: the last one wins;
    a lone surrogate: U+FFFD; a control character: left out) has its problems in
    `YamlDoc.problems`, errors and warnings, for the caller to report with its own.
    """
    try:
        try:
            node, data, problems, suspect = _node_and_data(text, _FastLoader, path, line_offset)
        except (yaml.YAMLError, ValueError, RecursionError):  # described by the pure-Python parser's words
            node, data, problems, suspect = _node_and_data(text, _Loader, path, line_offset)
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
        if past := _PAST_UNICODE.search(text):  # Python's parser says only "chr() arg not in range"
            raise YamlError(Problem(SourceLocation(path, text.count("\n", 0, past.start()) + 1 + line_offset),
                                    f"invalid YAML: {past.group()} is not a character (the last is \\U0010FFFF): "
                                    "check the escape")) from None
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
    if suspect:
        data = _cleaned(data)
    return YamlDoc(data, lines, tuple(sorted(set(problems))))


class YamlError(Exception):
    def __init__(self, problem: Problem):
        self.problem = problem
        super().__init__(str(problem))
