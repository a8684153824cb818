"""The build cache in `<site>/.kb-cache/`: parsed documents and the output manifest.

Parsed documents are keyed by the file's digest, its path, the Markdown options,
the timezone and kb's code version; their heads (all but the body texts) are also
kept together in one snapshot, which loads faster than ten thousand rows. The output manifest remembers, per output
folder, which page key produced each file and the file's size, mtime and inode:
a page whose key is unchanged and whose file is still the one kb wrote needs no
rendering. Compiled templates are kept in a folder of kb's code version (render.py).
Delete the folder at any time; a damaged cache is discarded, never trusted.
"""
from __future__ import annotations

import copyreg
import functools
import io
import os
import pickle
import shutil
import sqlite3
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..core.errors import Problem, SiteError, SourceLocation
from ..model.records import Body
from ..stages.parse import Document
from .fingerprint import code_version

CACHE_DIR = ".kb-cache"
DB_NAME = "cache.sqlite"
SCHEMA = 3
SNAPSHOT = "documents"  # a large artifact: the stored documents' heads, in one pickle (see `documents`)
SNAPSHOT_SLACK = 64  # documents the snapshot may lack or hold beyond the build's before a new one is taken


@dataclass
class BuildMemo:
    """What a long-running process (`kb serve`) keeps in memory between builds."""

    documents: dict[str, Document] = field(default_factory=dict)  # parse key → Document
    entry_digests: dict = field(default_factory=dict)  # Entry → digest (entries are hashable values)
    sources: dict = field(default_factory=dict)  # rel path → (size, mtime, inode, ctime), SourceFile
    related: dict[str, list[str]] = field(default_factory=dict)  # URL → related URLs, of the last exact build


@dataclass(frozen=True)
class FileRecord:
    """An output file as kb wrote it."""

    key: str  # the page key that produced it ("" for files that are not pages)
    size: int
    mtime_ns: int
    ino: int

    def matches(self, path: Path | str) -> bool:
        try:
            st = os.stat(path)
        except OSError:
            return False
        return (st.st_size, st.st_mtime_ns, st.st_ino) == (self.size, self.mtime_ns, self.ino)


def record_of(key: str, path: Path) -> FileRecord:
    st = path.stat()
    return FileRecord(key, st.st_size, st.st_mtime_ns, st.st_ino)


class BuildCache:
    """sqlite-backed; every method is safe to call when the cache is unusable (it then does nothing)."""

    def __init__(self, folder: Path | None, readonly: bool = False):
        self.folder = folder
        self.readonly = readonly  # `kb check` reads the cache but writes nothing, not even a new one
        self.db: sqlite3.Connection | None = None
        self.snapshot_keys: set[str] | None = None  # the documents' heads snapshot `documents` read ({}: none)
        if folder is not None:
            self.db = self._open(folder)

    def _open(self, folder: Path, timeout: float = 30) -> sqlite3.Connection | None:
        if self.readonly:
            try:
                if not (folder / DB_NAME).is_file():
                    return None
                db = sqlite3.connect(f"{(folder / DB_NAME).as_uri()}?mode=ro", uri=True, timeout=timeout)
                return db if db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA else None
            except (OSError, sqlite3.Error):
                return None
        try:
            folder.mkdir(parents=True, exist_ok=True)
            gitignore = folder / ".gitignore"
            if not gitignore.exists():
                gitignore.write_text("*\n", encoding="utf-8")
            db = sqlite3.connect(folder / DB_NAME, timeout=timeout, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version != SCHEMA:
                db.executescript(
                    "DROP TABLE IF EXISTS documents; DROP TABLE IF EXISTS outputs; DROP TABLE IF EXISTS artifacts;"
                    "CREATE TABLE artifacts (name TEXT PRIMARY KEY, key TEXT NOT NULL, data BLOB NOT NULL);"
                    "CREATE TABLE documents (key TEXT PRIMARY KEY, data BLOB NOT NULL, body BLOB NOT NULL);"
                    "CREATE TABLE outputs (folder TEXT, path TEXT, key TEXT, size INTEGER, mtime_ns INTEGER,"
                    " ino INTEGER, PRIMARY KEY (folder, path));"
                    f"PRAGMA user_version={SCHEMA};")
            return db
        except (OSError, sqlite3.Error):
            return None

    def _safely(self, action, default, writes: bool = False):
        if self.db is None or (writes and self.readonly):
            return default
        try:
            return action(self.db)
        except (sqlite3.Error, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError):
            try:
                self.db.close()
            except sqlite3.Error:
                pass
            self.db = None  # damaged or locked for too long: build without it
            return default

    def documents(self, later: bool = True) -> dict[str, Document]:
        """The stored documents; with `later`, each reads its body texts from here when first used
        (most builds use few), else they are read now (`kb serve` keeps them for its next builds).

        With `later`, the documents' heads come from one snapshot of them (see `save_documents`) where
        it has them, and from their rows otherwise: ten thousand load in two thirds of the time that way.
        """
        def load(db: sqlite3.Connection) -> dict[str, Document]:
            if not later:
                return {key: _whole(data, body) for key, data, body in db.execute("SELECT key, data, body FROM documents")}
            bodies = StoredBodies(self.folder / DB_NAME)
            stored = [key for (key,) in db.execute("SELECT key FROM documents")]
            snapshot = self.large_artifact(SNAPSHOT, _snapshot_key(), functools.partial(HeadUnpickler, body_of=bodies.body))
            heads = snapshot if isinstance(snapshot, dict) else {}
            self.snapshot_keys = set(heads)
            rest = [key for key in stored if key not in heads]  # stored since the snapshot was taken
            for start in range(0, len(rest), 500):
                batch = rest[start:start + 500]
                heads.update((key, HeadUnpickler(io.BytesIO(data), bodies.body).load()) for key, data in db.execute(
                    f"SELECT key, data FROM documents WHERE key IN ({', '.join('?' * len(batch))})", batch))
            return {key: heads[key] for key in stored if key in heads}
        return self._safely(load, {})

    @property
    def writable(self) -> bool:
        return self.db is not None and not self.readonly

    def try_add_documents(self, new: dict[str, Document]) -> bool:
        """Store parsed documents unless another process is writing (then False, at once).

        Parse workers store what they parse, so that the main process need not pickle a
        large site's documents; one that finds the database
        busy keeps parsing rather than wait, and `save_documents` stores what is left.
        """
        if not self.writable:
            return False
        rows = [_row(k, d) for k, d in new.items()]
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error:  # locked by the other worker (or unusable: the main process stores them)
            return False
        return self._safely(lambda db: (db.executemany("INSERT OR REPLACE INTO documents VALUES (?, ?, ?)", rows),
                                        db.execute("COMMIT"), True)[-1], False, writes=True)

    def save_documents(self, new: dict[str, Document], keep: set[str], used: Mapping[str, Document] | None = None) -> None:
        """Add the new documents not stored yet; drop those no build uses any more.

        `used` (the build's documents by key): when this cache looked for a snapshot of the heads and
        found none, or one that lacks or holds more than a sixteenth of them, a new one is taken. Its
        documents are named by content, so a snapshot can be old, never wrong: the rows say which
        documents are stored (their bodies are read from there).
        """
        def save(db: sqlite3.Connection) -> None:
            stored = {k for (k,) in db.execute("SELECT key FROM documents")}
            db.execute("BEGIN")
            db.executemany("DELETE FROM documents WHERE key = ?", ((k,) for k in stored - keep))
            db.executemany("INSERT OR REPLACE INTO documents VALUES (?, ?, ?)",
                           (_row(k, d) for k, d in new.items() if k not in stored))
            db.execute("COMMIT")
        self._safely(save, None, writes=True)
        if used is not None and self._snapshot_is_stale(used.keys()):
            self.save_large_artifact(SNAPSHOT, _snapshot_key(), dict(used), functools.partial(HeadPickler, documents=used))
            self.snapshot_keys = set(used)

    def _snapshot_is_stale(self, used: Iterable[str]) -> bool:
        """This cache looked for the heads' snapshot (see `documents`) and found none, or one that lacks
        or holds more than a sixteenth of these documents (SNAPSHOT_SLACK at least)."""
        if self.snapshot_keys is None:  # never looked (`kb serve` keeps its documents itself)
            return False
        used = set(used)
        return bool(used) and not self.snapshot_keys or \
            len(self.snapshot_keys ^ used) > max(SNAPSHOT_SLACK, len(used) // 16)

    def reopened(self) -> BuildCache:
        """The same cache on a connection of its own that never waits for a lock, for a forked
        worker (a connection must not be used by two processes)."""
        other = BuildCache(None, self.readonly)
        if self.db is not None and self.folder is not None:
            other.folder = self.folder
            other.db = self._open(self.folder, timeout=0)
        return other

    def outputs(self, folder: Path) -> dict[str, FileRecord]:
        def load(db: sqlite3.Connection) -> dict[str, FileRecord]:
            rows = db.execute("SELECT path, key, size, mtime_ns, ino FROM outputs WHERE folder = ?", (str(folder),))
            return {path: FileRecord(key, size, mtime, ino) for path, key, size, mtime, ino in rows}
        return self._safely(load, {})

    def save_outputs(self, folder: Path, records: Iterable[tuple[str, FileRecord]],
                     previous: Mapping[str, FileRecord] | None = None) -> None:
        """The folder's manifest is now `records`; with `previous` (what `outputs` gave this build),
        only the rows that differ are written (after an edit, a handful of fifteen thousand). A row
        another process changed meanwhile costs at most a render: a record is trusted only while
        its file has the size, mtime and inode it gives."""
        def save(db: sqlite3.Connection) -> None:
            now = dict(records)
            db.execute("BEGIN")
            if previous is None:
                db.execute("DELETE FROM outputs WHERE folder = ?", (str(folder),))
            else:
                db.executemany("DELETE FROM outputs WHERE folder = ? AND path = ?",
                               ((str(folder), path) for path in previous.keys() - now.keys()))
            db.executemany("INSERT OR REPLACE INTO outputs VALUES (?, ?, ?, ?, ?, ?)",
                           ((str(folder), path, r.key, r.size, r.mtime_ns, r.ino) for path, r in now.items()
                            if previous is None or previous.get(path) != r))
            db.execute("COMMIT")
        self._safely(save, None, writes=True)

    def artifact(self, name: str, key: str):
        """The value stored under `name` if it was stored with this key, else None."""
        def load(db: sqlite3.Connection):
            row = db.execute("SELECT data FROM artifacts WHERE name = ? AND key = ?", (name, key)).fetchone()
            return pickle.loads(row[0]) if row else None
        return self._safely(load, None)

    def save_artifact(self, name: str, key: str, value) -> None:
        def save(db: sqlite3.Connection) -> None:
            db.execute("INSERT OR REPLACE INTO artifacts VALUES (?, ?, ?)", (name, key, pickle.dumps(value, protocol=5)))
        self._safely(save, None, writes=True)

    def large_artifact(self, name: str, key: str, unpickler: Callable[[io.BufferedReader], pickle.Unpickler] = pickle.Unpickler):
        """Like `artifact`, for values of tens of megabytes: kept in a file of their own, which
        is written faster than a database row and read without copying it through sqlite."""
        if self.folder is None or self.db is None:
            return None
        try:
            with open(self.folder / f"{name}.pickle", "rb") as file:
                stored_key, value = unpickler(file).load()
            return value if stored_key == key else None
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, TypeError, ValueError):
            return None

    def save_large_artifact(self, name: str, key: str, value,
                            pickler: Callable[[io.BufferedWriter], pickle.Pickler] = pickle.Pickler) -> None:
        if self.folder is None or self.db is None or self.readonly:
            return
        path = self.folder / f"{name}.pickle"
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        try:
            with open(temporary, "wb") as file:
                pickler(file, protocol=5).dump((key, value))
            os.replace(temporary, path)  # whole or not at all
        except OSError:
            temporary.unlink(missing_ok=True)

    def folder_for(self, name: str, key: str) -> Path | None:
        """A folder of files made with `key` (kb's code version, say), the folders of other keys
        removed; None when the cache is off, read-only or unusable."""
        if self.folder is None or self.db is None or self.readonly:
            return None
        folder = self.folder / f"{name}-{key[:16]}"
        try:
            for other in self.folder.glob(f"{name}-*"):
                if other != folder:
                    shutil.rmtree(other, ignore_errors=True)
            folder.mkdir(exist_ok=True)
        except OSError:
            return None
        return folder

    def close(self) -> None:
        if self.db is not None:
            self.db.close()
            self.db = None


def _row(key: str, doc: Document) -> tuple[str, bytes, bytes]:
    """A document's row: its head (the document, its bodies and its answers' left to the third column)
    and those bodies' texts."""
    head = io.BytesIO()
    HeadPickler(head, protocol=5, documents={key: doc}).dump(doc)
    body = (doc.html, doc.text, tuple((a.html, a.text) for a in doc.answers))
    return key, head.getvalue(), pickle.dumps(body, protocol=5)


def _snapshot_key() -> str:
    """The snapshot of documents' heads is unpickled as this code's classes: taken by other code, it is not used."""
    return f"{SCHEMA}:{code_version()}"


def body_in_row(key: str, answer: int | None) -> Body:
    """What a pickled head holds in place of a body: the row of the document with this key holds it (its
    answer's, with an index). Only a HeadUnpickler reads heads, and it makes each of these a Body."""
    raise pickle.UnpicklingError("a document's head is read by a HeadUnpickler")


class HeadPickler(pickle.Pickler):
    """Pickles `documents` with each body, theirs and their answers', as a `body_in_row` reference:
    ten thousand heads load in a fraction of the time of whole documents."""

    def __init__(self, file: io.BufferedWriter | io.BytesIO, protocol: int, documents: Mapping[str, Document]):
        super().__init__(file, protocol=protocol)
        rows: dict[int, tuple[str, int | None]] = {}  # id(body) → (key, answer index)
        for key, doc in documents.items():
            rows[id(doc.body)] = (key, None)
            rows.update((id(answer.body), (key, i)) for i, answer in enumerate(doc.answers))
        self.dispatch_table = {**copyreg.dispatch_table, Body: lambda body: (body_in_row, rows[id(body)])}


class HeadUnpickler(pickle.Unpickler):
    """Reads what a HeadPickler wrote: each body reference becomes `body_of(key, answer)`."""

    def __init__(self, file: io.BufferedReader | io.BytesIO, body_of: Callable[[str, int | None], Body]):
        super().__init__(file)
        self.body_of = body_of

    def find_class(self, module: str, name: str):
        if (module, name) == (__name__, "body_in_row"):
            return self.body_of
        return super().find_class(module, name)


def _whole(head: bytes, body: bytes) -> Document:
    """A document of a row, its bodies read."""
    html, text, answers = pickle.loads(body)
    return HeadUnpickler(io.BytesIO(head), lambda _, answer: Body(html, text) if answer is None
                         else Body(*answers[answer])).load()


class StoredBodies:
    """The documents' body texts in the cache, read one at a time by the bodies that need theirs
    (see model.Body), in whichever process they are in: each opens a connection of its own."""

    def __init__(self, path: Path):
        self.path = path
        self.connections: dict[tuple[int, int], sqlite3.Connection] = {}  # by process and thread: each opens its own

    def __reduce__(self):
        return StoredBodies, (self.path,)

    def body(self, key: str, answer: int | None = None) -> Body:
        """The body of the document with this key, or of its answer with this index, read when first used."""
        return Body("", "", functools.partial(self.texts, key, answer))

    def texts(self, key: str, answer: int | None = None) -> tuple[str, str]:
        """(html, text) of the document with this key, or of its answer with this index."""
        who = (os.getpid(), threading.get_ident())
        try:
            db = self.connections.get(who)
            if db is None:
                db = self.connections[who] = sqlite3.connect(f"{self.path.as_uri()}?mode=ro", uri=True, timeout=30)
            row = db.execute("SELECT body FROM documents WHERE key = ?", (key,)).fetchone()
        except sqlite3.Error:
            row = None
        if row is None:  # the cache was deleted or changed by another kb process since this build read it
            raise SiteError([Problem(SourceLocation(str(self.path), 1), "a document's text is gone from the build cache "
                                     "(deleted, or changed by another kb process, during this build): run the build again")])
        html, text, answers = pickle.loads(row[0])
        return (html, text) if answer is None else tuple(answers[answer])


def cache_folder(site_root: Path) -> Path:
    return Path(os.path.abspath(site_root)) / CACHE_DIR
