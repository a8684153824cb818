"""kb build | check | new: the command line."""
from __future__ import annotations

import argparse
import json
import os
import sys
import unicodedata
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from ..build import BuildOptions, build
from ..config import SECTION_IDS, load_config
from ..core.errors import Problem, SiteError
from ..core.text import slugify
from ..core.weeks import LAST_YEAR, YEARS, Week, parse_week
from ..stages.frontmatter import SEGMENT_BYTES

MAX_WORKERS = 512
EPOCH_EXAMPLE = 1795233600  # 2026-11-21 12:00 in Shanghai
LAST_EPOCH = int(datetime(LAST_YEAR + 1, 1, 1, tzinfo=UTC).timestamp())

# Option values are checked by argparse (`type=`), which names the option and exits 2; each
# message says what is wrong and what to write instead.


def _moment(value: str) -> str:
    """--now must be a date-time kb takes."""
    from ..core.dates import parse_when

    try:
        parse_when(value, UTC)
    except (ValueError, OverflowError) as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return value


def _week(value: str) -> Week:
    try:
        return parse_week(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _port(value: str) -> int:
    if not 0 <= (port := _whole_number(value)) <= 65535:
        raise argparse.ArgumentTypeError(f"{_quoted(value)} is not a port: write a number from 1 to 65535, or 0 for a free one")
    return port


def _host(value: str) -> str:
    """--host must be an address or a name a socket can take (IDNA: labels of 1-63 characters)."""
    try:
        value.encode("idna")
    except UnicodeError:
        raise argparse.ArgumentTypeError(f"{_quoted(value)} is not a host name or address: write one such as 127.0.0.1, "
                                         f"0.0.0.0 (every address) or localhost") from None
    return value


def _base_url(value: str) -> str:
    """--base-url must be what base_url in site_config.yaml must be: an absolute http(s) URL."""
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - a port that is not a number in 0-65535 raises ValueError
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or not value.isprintable() or " " in value:
        raise argparse.ArgumentTypeError(f"{_quoted(value)} is not an absolute http(s) URL: write it as https://kb.example.org/")
    return value


def _quoted(value: str) -> str:
    """A value from the command line or the environment, quoted on one line and cut short; a byte
    that is not UTF-8 is shown as \\xff."""
    shown = json.dumps(value if len(value) <= 60 else value[:60] + "…", ensure_ascii=False)
    try:
        return shown.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a surrogate that stands for no byte
        return shown.encode("utf-8", "backslashreplace").decode()


def _source_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", type=Path, default=Path("."), metavar="DIR",
                        help="the site folder (with content/ and site_config.yaml); default: here")


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kb", description="Build a community knowledge base from Markdown.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = commands.add_parser("build", help="build the site into output/", description="Build the site. Exit 1 on content errors, leaving the previous output/ untouched.")
    _source_arg(p)
    p.add_argument("--output", type=Path, metavar="DIR", help="where to write the site (default: SOURCE/output)")
    p.add_argument("--drafts", action="store_true", help="include entries marked draft: true")
    p.add_argument("--base-url", metavar="URL", type=_base_url, help="override base_url from site_config.yaml")
    p.add_argument("--now", metavar="ISO-8601", type=_moment, help='fix "now" (scheduled entries, current week); SOURCE_DATE_EPOCH works too')
    p.add_argument("--strict", action="store_true", help="treat warnings as errors")
    p.add_argument("--timings", action="store_true", help="print the seconds each stage took (to stderr)")

    p = commands.add_parser("serve", help="build, serve and rebuild on every change", description="Build the site, serve it on http://127.0.0.1:8000/, watch content/, templates/, static/ and site_config.yaml, rebuild what changed and reload open browser tabs. Ctrl-C stops.")
    _source_arg(p)
    p.add_argument("--port", type=_port, default=8000, metavar="N", help="port (default 8000; 0 picks a free one)")
    p.add_argument("--host", default="127.0.0.1", type=_host, metavar="H", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--drafts", action="store_true", help="include entries marked draft: true")
    p.add_argument("--now", metavar="ISO-8601", type=_moment, help='fix "now"')

    p = commands.add_parser("check", help="validate content without writing", description="Check every entry, member and link; print every problem; exit 1 on errors.")
    _source_arg(p)
    p.add_argument("--strict", action="store_true", help="treat warnings as errors")
    p.add_argument("--now", metavar="ISO-8601", type=_moment, help='fix "now"')

    p = commands.add_parser("new", help="create a new entry with its front matter", description="Create content/SECTION/<slug>.md with front matter filled in and print its path.")
    p.add_argument("section", choices=SECTION_IDS, metavar="SECTION", help=f"one of {', '.join(SECTION_IDS)}")
    p.add_argument("title", help='the title, e.g. "新人进群后如何破冰"')
    p.add_argument("--slug", help="the file name / URL segment (default: made from the title)")
    _source_arg(p)

    p = commands.add_parser("digest", help="print one week's digest, ready to paste", description="Print one week's digest to stdout: txt for chat groups (split into messages under digest_message_limit characters), md for Markdown, html for e-mail.")
    _source_arg(p)
    p.add_argument("--week", metavar="YYYY-Www", type=_week, help="the ISO week, e.g. 2026-W47 (default: the last completed week)")
    p.add_argument("--format", choices=("md", "txt", "html"), default="md", help="md (default), txt or html")
    p.add_argument("--now", metavar="ISO-8601", type=_moment, help='fix "now" (which week is the last completed one)')
    return parser


def run_build(args: argparse.Namespace) -> int:
    options = BuildOptions(source=args.source, output=args.output, drafts=args.drafts,
                           base_url=args.base_url, now=args.now, strict=args.strict)
    from ..build import UnsafeOutput

    try:
        result = build(options, background_cleanup=True)
    except UnsafeOutput as exc:  # refused before anything was touched
        print(f"kb build: {exc}", file=sys.stderr)
        return 2
    except SiteError as exc:
        _print_problems(exc.problems)
        print(f"build failed: {_counts(exc.problems)}; {options.output_dir} was left as it was", file=sys.stderr)
        return 1
    except OSError as exc:  # the disk, not the content: unreadable, full, read-only, a name too long
        print(f"kb: {exc.filename or options.output_dir}: {exc.strerror or exc}; "
              f"{options.output_dir} was left as it was", file=sys.stderr)
        return 1
    try:
        _print_problems(result.warnings)
        print(f"{result.summary()} → {options.output_dir}/")
        if args.timings:
            print("timings: " + " ".join(f"{stage}={seconds:.2f}s" for stage, seconds in result.timings.items()), file=sys.stderr)
    except BrokenPipeError:  # `kb build | head -0`: the reader left (the site is built all the same), as in `run`
        return 1
    return 0


def run_serve(args: argparse.Namespace) -> int:
    from .serve import serve

    return serve(BuildOptions(source=args.source, drafts=args.drafts, now=args.now), host=args.host, port=args.port)


def _print_problems(problems) -> None:
    for problem in problems:
        print(problem, file=sys.stderr)


def _counts(problems: list[Problem] | tuple[Problem, ...]) -> str:
    """"2 errors, 1 warning"."""
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    text = f"{errors} error{'s' if errors != 1 else ''}"
    return text + (f", {warnings} warning{'s' if warnings != 1 else ''}" if warnings else "")


def run_check(args: argparse.Namespace) -> int:
    options = BuildOptions(source=args.source, now=args.now, strict=args.strict, links_are_errors=True)
    try:
        result = build(options, write=False)
    except SiteError as exc:
        _print_problems(exc.problems)
        print(f"check failed: {_counts(exc.problems)}", file=sys.stderr)
        return 1
    _print_problems(result.warnings)
    print(f"ok: {result.entries} entries, {_counts(result.warnings)}")
    return 0


def new_entry_text(title: str, section: str, now: datetime) -> str:
    quoted = '"' + title.replace("\\", "\\\\").replace('"', '\\"') + '"'
    lines = ["---", f"title: {quoted}", f"date: {now:%Y-%m-%d %H:%M}", "tags: []", "authors: []"]
    if section == "qa":
        lines = ["---", f"title: {quoted}", f"date: {now:%Y-%m-%d %H:%M}", "asker: ", "tags: []"]
    lines += ["summary: ", "---", "", ""]
    if section == "qa":
        lines += ["问题的背景和细节。", "", "## 回答 @member-id 已采纳", "", "回答的内容。", ""]
    return "\n".join(lines)


def run_new(args: argparse.Namespace) -> int:
    for name, value in (("title", args.title), ("--slug", args.slug or "")):
        if problem := _typed_text_problem(value):
            print(f"kb new: the {name} {problem}", file=sys.stderr)
            return 2
    try:
        config = load_config(args.source)
    except SiteError as exc:
        _print_problems(exc.problems)
        return 1
    slug = slugify(args.slug or args.title)
    if not slug or slug in (".", ".."):
        print('kb new: cannot make a file name from that title; pass --slug some-name', file=sys.stderr)
        return 2
    if len(slug.encode()) > SEGMENT_BYTES:
        print("kb new: a file name made from that title would be too long; pass a shorter --slug", file=sys.stderr)
        return 2
    folder = args.source / "content" / args.section
    path = folder / f"{slug}.md"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with path.open("x", encoding="utf-8") as file:  # "x": never over a file that is there
            file.write(new_entry_text(args.title, args.section, datetime.now(config.tz)))
    except FileExistsError as exc:
        if exc.filename is not None and Path(exc.filename) == path:
            print(f"kb new: {path} already exists; choose another title or --slug", file=sys.stderr)
            return 1
        print(f"kb new: cannot make the folder {folder}: a file is in the way", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"kb new: cannot write {exc.filename or path}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(path)
    return 0


def _typed_text_problem(value: str) -> str | None:
    """What keeps text typed on the command line out of a front matter line, if anything: bytes
    that are not UTF-8 (the terminal's encoding is another), or a control character."""
    if any("\ud800" <= char <= "\udfff" for char in value):
        return "is not UTF-8 text: set the terminal to UTF-8, or type it in the file kb makes"
    if control := next((char for char in value if unicodedata.category(char) == "Cc"), None):
        return f"holds a control character (U+{ord(control):04X}): type it without"
    return None


def run_digest(args: argparse.Namespace) -> int:
    from ..build import load_site
    from ..core.errors import Problems
    from ..core.weeks import last_completed_week, week_of
    from ..derive.digest import week_digest
    from ..derive.digest_text import digest_text
    from ..render import Renderer

    try:
        site = load_site(BuildOptions(source=args.source, now=args.now), Problems(), {})
    except SiteError as exc:
        _print_problems(exc.problems)
        return 1
    tz, starts_on = site.config.tz, site.config.week_start
    this_week = week_of(site.now, tz, starts_on)
    if args.week:
        week = replace(args.week, starts_on=starts_on)  # the site's week of that label
        if week > this_week:
            print(f"kb digest: {week.label} has not started yet (this week is {this_week.label})", file=sys.stderr)
            return 2
    else:
        week = last_completed_week(site.now, tz, starts_on)
    sys.stdout.write(digest_text(site, week_digest(site, week), args.format, Renderer(site).render))
    return 0


COMMANDS = {"build": run_build, "check": run_check, "new": run_new, "digest": run_digest, "serve": run_serve}


def not_a_site(source: Path, command: str) -> str | None:
    """Why `source` is not a site's folder, if it is not: a mistyped --source would otherwise
    build an empty site there (`kb new` may start a site in an empty folder, or make the folder)."""
    shown = _shown_path(source)
    try:
        str(source.absolute()).encode("utf-8")
    except UnicodeEncodeError:
        return f"{shown}: the folder's path is not UTF-8 text; move the site to a folder whose path is"
    try:
        if source.exists() and not source.is_dir():
            return f"{shown}: a file, not a folder; pass the site's folder with --source DIR"
        if command == "new":
            return None
        if not source.is_dir():
            return f"{shown}: no such folder; pass the site's folder with --source DIR"
        if not (source / "content").is_dir() and not (source / "site_config.yaml").is_file():
            return (f"{shown}: not a kb site (it has neither content/ nor site_config.yaml); "
                    f"run kb in the site's folder or pass it with --source DIR")
    except OSError as exc:  # a name too long, a loop of links, no permission
        return f"{shown}: {exc.strerror or exc}; pass the site's folder with --source DIR"
    return None


def _shown_path(path: Path) -> str:
    """A path for a message: a byte that is not UTF-8 as \\xff, and the middle of a very long one left out."""
    text = os.fsencode(path).decode("utf-8", "backslashreplace")
    return text if len(text) <= 200 else f"{text[:100]}…{text[-60:]}"


def environment_problem(args: argparse.Namespace, environ: dict[str, str]) -> str | None:
    """Why SOURCE_DATE_EPOCH, KB_WORKERS or KB_SPEED cannot be used, if one cannot: a build would stop
    on the first with a traceback, start as many processes as KB_WORKERS says, or take KB_SPEED=off for on."""
    epoch = environ.get("SOURCE_DATE_EPOCH", "")
    if epoch and getattr(args, "now", None) is None and not 0 <= _whole_number(epoch) < LAST_EPOCH:
        return (f"SOURCE_DATE_EPOCH={_quoted(epoch)} is not a time kb takes: set it to whole seconds since "
                f"1970-01-01 00:00 UTC, such as {EPOCH_EXAMPLE} ({YEARS})")
    workers = environ.get("KB_WORKERS", "")
    if workers and not 1 <= _whole_number(workers) <= MAX_WORKERS:
        return (f"KB_WORKERS={_quoted(workers)} is not a number of worker processes: set it to a whole number "
                f"from 1 to {MAX_WORKERS}, or unset it to use every core")
    if environ.get("KB_SPEED", "").strip() not in ("", "0", "1"):
        return (f"KB_SPEED={_quoted(environ['KB_SPEED'])} is not a switch kb takes: set it to 0 to build without "
                f"the speed layer (slower, the same output), or unset it")
    return None


def _whole_number(text: str) -> int:
    """The number ASCII digits (and spaces around them) write; -1 for anything else."""
    text = text.strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 20 else -1


def main(argv: list[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    problem = not_a_site(args.source, args.command)
    if problem is None and args.command != "new":
        problem = environment_problem(args, dict(os.environ))
    if problem:
        print(f"kb {args.command}: {problem}", file=sys.stderr)
        return 2
    try:
        return COMMANDS[args.command](args)
    except KeyboardInterrupt:
        print("kb: interrupted; the previous output was left as it was", file=sys.stderr)
        return 130


def run() -> None:
    """The `kb` command: `main`, then exit without taking the heap apart object by object, which
    after a large build takes a visible moment (nothing is left to clean up: the build closed
    its files, its cache and its children)."""
    code = main()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (BrokenPipeError, OSError):  # `kb build | head`: the reader left
        code = code or 1
    os._exit(code)


if __name__ == "__main__":
    run()
