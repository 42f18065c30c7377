"""SQLite persistence of one sim cluster: objects, the global resourceVersion, the watch event log,
the controllers' due-time queue and the ownerReference index.

One file, many processes: WAL journal, busy_timeout, `BEGIN IMMEDIATE` for every write and a retry
loop on SQLITE_BUSY when taking the write lock (the transaction has not started, so the retry is safe).

A damaged file (overwritten, truncated, not SQLite at all) surfaces wherever SQLite first reads the
broken page, deep inside any query. Every statement therefore goes through one guarded connection
that turns `sqlite3.DatabaseError` into `DamagedStore` (an `Unavailable` cluster error naming the
file as the caller labelled it), so the engine treats it like any unreachable cluster: that cluster's
apps become Unknown with a condition, a damaged control cluster fails the command in one line.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from console.cluster.api import Unavailable

EVENT_HISTORY = 10_000
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS objects(
  id INTEGER PRIMARY KEY, grp TEXT NOT NULL, kind TEXT NOT NULL, ns TEXT NOT NULL, name TEXT NOT NULL,
  uid TEXT NOT NULL, rv INTEGER NOT NULL, body TEXT NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS objects_key ON objects(grp, kind, ns, name);
CREATE UNIQUE INDEX IF NOT EXISTS objects_uid ON objects(uid);
CREATE INDEX IF NOT EXISTS objects_ns ON objects(ns);
CREATE TABLE IF NOT EXISTS events(
  rv INTEGER PRIMARY KEY, grp TEXT NOT NULL, kind TEXT NOT NULL, ns TEXT NOT NULL,
  name TEXT NOT NULL, type TEXT NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS events_gk ON events(grp, kind, rv);
CREATE TABLE IF NOT EXISTS due(
  grp TEXT NOT NULL, kind TEXT NOT NULL, ns TEXT NOT NULL, name TEXT NOT NULL, at REAL NOT NULL,
  PRIMARY KEY(grp, kind, ns, name)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS due_at ON due(at);
CREATE TABLE IF NOT EXISTS owner_refs(
  owner_uid TEXT NOT NULL, grp TEXT NOT NULL, kind TEXT NOT NULL, ns TEXT NOT NULL, name TEXT NOT NULL,
  PRIMARY KEY(owner_uid, grp, kind, ns, name)) WITHOUT ROWID;
"""

Key = tuple[str, str, str, str]  # group, kind, namespace, name


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


class DamagedStore(Unavailable):
    """The sim cluster's state file cannot be used as a database (corrupt, truncated, not SQLite)."""


def _error(label: str, exc: sqlite3.Error) -> Unavailable:
    detail = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, sqlite3.OperationalError) and _is_busy(exc):
        return Unavailable(f"sim cluster state file {label} is busy ({detail}); try again")
    return DamagedStore(
        f"sim cluster state file {label} is damaged ({detail}): restore it from a backup or recreate the workspace"
    )


class _Cursor:
    """A cursor whose row fetches raise cluster errors instead of sqlite3 errors."""

    __slots__ = ("_cur", "_label")

    def __init__(self, cur: sqlite3.Cursor, label: str) -> None:
        self._cur, self._label = cur, label

    def fetchone(self) -> Any:
        try:
            return self._cur.fetchone()
        except sqlite3.Error as exc:
            raise _error(self._label, exc) from exc

    def fetchall(self) -> list[Any]:
        try:
            return self._cur.fetchall()
        except sqlite3.Error as exc:
            raise _error(self._label, exc) from exc

    def __iter__(self) -> Iterator[Any]:
        try:
            yield from self._cur
        except sqlite3.Error as exc:
            raise _error(self._label, exc) from exc


class _Conn:
    """The guarded connection every statement goes through (see the module docstring)."""

    __slots__ = ("raw", "label")

    def __init__(self, raw: sqlite3.Connection, label: str) -> None:
        self.raw, self.label = raw, label

    def execute(self, sql: str, params: Any = ()) -> _Cursor:
        try:
            return _Cursor(self.raw.execute(sql, params), self.label)
        except sqlite3.Error as exc:
            raise _error(self.label, exc) from exc

    def executemany(self, sql: str, rows: Iterable[Any]) -> _Cursor:
        try:
            return _Cursor(self.raw.executemany(sql, rows), self.label)
        except sqlite3.Error as exc:
            raise _error(self.label, exc) from exc

    def close(self) -> None:
        self.raw.close()


class Store:
    """A connection to one sim cluster file. Thread-safe through one re-entrant lock.

    `label` names the file in error messages (the workspace passes its workspace-relative path,
    so no host path reaches a condition or the terminal). `must_exist`: the file holds a cluster
    already, so a missing or empty one is damage, not a new cluster to create.
    """

    def __init__(
        self, path: Path, *, busy_timeout_ms: int = 10_000, label: str | None = None, must_exist: bool = False
    ) -> None:
        self.path = Path(path)
        self.label = label or str(self.path)
        self.lock = threading.RLock()
        self._depth = 0
        self._busy_timeout = busy_timeout_ms / 1000.0
        if must_exist:
            try:
                size = self.path.stat().st_size
            except OSError as exc:
                raise Unavailable(
                    f"cannot open sim cluster state file {self.label}: {exc.strerror}"
                ) from None
            if size == 0:
                raise DamagedStore(
                    f"sim cluster state file {self.label} is damaged (it is empty): restore it from a "
                    "backup or recreate the workspace"
                )
        try:
            raw = sqlite3.connect(
                str(self.path), timeout=self._busy_timeout, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise Unavailable(f"cannot open sim cluster state file {self.label}: {exc}") from exc
        self._raw = raw
        self.conn = _Conn(raw, self.label)
        try:
            self.conn.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
            self._retry(lambda: self._raw.execute("PRAGMA journal_mode=WAL"))
            self.conn.execute("PRAGMA synchronous=NORMAL")
            with self.write() as conn:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute("INSERT OR IGNORE INTO meta(key, value) VALUES('rv', '0')")
        except Unavailable:
            raw.close()
            raise

    # ------------------------------------------------------------ transactions

    def _retry(self, fn: Any) -> Any:
        """`fn` uses the raw connection: busy errors are retried, any other becomes a cluster error."""
        deadline = time.monotonic() + self._busy_timeout * 3
        delay = 0.005
        while True:
            try:
                return fn()
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc) or time.monotonic() > deadline:
                    raise _error(self.label, exc) from exc
                time.sleep(delay)
                delay = min(delay * 2, 0.2)
            except sqlite3.Error as exc:
                raise _error(self.label, exc) from exc

    def _rollback(self) -> None:
        try:
            self._raw.execute("ROLLBACK")
        except sqlite3.Error:
            pass  # a damaged file or no transaction left: the original error is what matters

    @contextmanager
    def write(self) -> Iterator[_Conn]:
        """One `BEGIN IMMEDIATE` transaction; nested uses join the outer one."""
        with self.lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self.conn
                finally:
                    self._depth -= 1
                return
            self._retry(lambda: self._raw.execute("BEGIN IMMEDIATE"))
            self._depth = 1
            try:
                yield self.conn
            except BaseException:
                self._rollback()
                raise
            else:
                try:
                    self._retry(lambda: self._raw.execute("COMMIT"))
                except Unavailable:
                    self._rollback()
                    raise
            finally:
                self._depth = 0

    @contextmanager
    def read(self) -> Iterator[_Conn]:
        """A consistent snapshot for multi-statement reads (WAL readers never block writers)."""
        with self.lock:
            if self._depth:
                yield self.conn
                return
            self._retry(lambda: self._raw.execute("BEGIN"))
            self._depth = 1
            try:
                yield self.conn
            finally:
                self._depth = 0
                try:
                    self._raw.execute("COMMIT")
                except sqlite3.Error:
                    self._rollback()  # a read-only transaction: nothing to lose

    def close(self) -> None:
        with self.lock:
            self.conn.close()

    def backup_to(self, dest: Path) -> None:
        """A consistent copy of the whole file (SQLite's online backup: writers are not blocked)."""
        with self.lock:
            target = sqlite3.connect(str(dest))
            try:
                self._retry(lambda: self._raw.backup(target))
            finally:
                target.close()

    def restore_from(self, src: Path) -> None:
        """Replace the whole content with a backup, through this connection (other processes'
        connections see the new content at their next statement, as after any write)."""
        with self.lock:
            source = sqlite3.connect(f"file:{src}?mode=ro", uri=True)
            try:
                self._retry(lambda: source.backup(self._raw))
            finally:
                source.close()

    # ------------------------------------------------------------ meta

    def meta_get(self, key: str, default: Any = None) -> Any:
        with self.lock:
            row = self.conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return json.loads(row[0]) if row else default

    def meta_set(self, key: str, value: Any) -> None:
        with self.write() as conn:
            conn.execute(
                "INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                (key, json.dumps(value)),
            )

    def next_rv(self) -> int:
        row = self.conn.execute(
            "UPDATE meta SET value=CAST(value AS INTEGER)+1 WHERE key='rv' RETURNING value"
        ).fetchone()
        return int(row[0])

    def current_rv(self) -> int:
        row = self.conn.execute("SELECT value FROM meta WHERE key='rv'").fetchone()
        return int(row[0]) if row else 0

    # ------------------------------------------------------------ objects

    def get(self, key: Key) -> dict[str, Any] | None:
        row = self.conn.execute(
            "SELECT body FROM objects WHERE grp=? AND kind=? AND ns=? AND name=?", key
        ).fetchone()
        return json.loads(row[0]) if row else None

    def get_by_uid(self, uid: str) -> dict[str, Any] | None:
        row = self.conn.execute("SELECT body FROM objects WHERE uid=?", (uid,)).fetchone()
        return json.loads(row[0]) if row else None

    def key_by_uid(self, uid: str) -> Key | None:
        row = self.conn.execute("SELECT grp, kind, ns, name FROM objects WHERE uid=?", (uid,)).fetchone()
        return (row[0], row[1], row[2], row[3]) if row else None

    def put(self, key: Key, uid: str, rv: int, body: str) -> None:
        self.conn.execute(
            "INSERT INTO objects(grp, kind, ns, name, uid, rv, body) VALUES(?,?,?,?,?,?,?) "
            "ON CONFLICT(grp, kind, ns, name) DO UPDATE SET uid=excluded.uid, rv=excluded.rv, body=excluded.body",
            (*key, uid, rv, body),
        )

    def remove(self, key: Key) -> None:
        self.conn.execute("DELETE FROM objects WHERE grp=? AND kind=? AND ns=? AND name=?", key)
        self.conn.execute("DELETE FROM owner_refs WHERE grp=? AND kind=? AND ns=? AND name=?", key)

    def list_objects(self, group: str, kind: str, namespace: str | None) -> list[dict[str, Any]]:
        if namespace is None:
            rows = self.conn.execute(
                "SELECT body FROM objects WHERE grp=? AND kind=? ORDER BY ns, name", (group, kind)
            )
        else:
            rows = self.conn.execute(
                "SELECT body FROM objects WHERE grp=? AND kind=? AND ns=? ORDER BY name",
                (group, kind, namespace),
            )
        return [json.loads(r[0]) for r in rows]

    def keys_in_namespace(self, namespace: str) -> list[Key]:
        rows = self.conn.execute("SELECT grp, kind, ns, name FROM objects WHERE ns=?", (namespace,))
        return [(r[0], r[1], r[2], r[3]) for r in rows]

    def all_bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r[0]) for r in self.conn.execute("SELECT body FROM objects")]

    def count(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM objects").fetchone()[0])

    # ------------------------------------------------------------ ownerReference index

    def set_owners(self, key: Key, owner_uids: Iterable[str]) -> None:
        self.conn.execute("DELETE FROM owner_refs WHERE grp=? AND kind=? AND ns=? AND name=?", key)
        self.conn.executemany(
            "INSERT OR IGNORE INTO owner_refs(owner_uid, grp, kind, ns, name) VALUES(?,?,?,?,?)",
            [(u, *key) for u in owner_uids],
        )

    def dependents(self, owner_uid: str) -> list[Key]:
        rows = self.conn.execute("SELECT grp, kind, ns, name FROM owner_refs WHERE owner_uid=?", (owner_uid,))
        return [(r[0], r[1], r[2], r[3]) for r in rows]

    # ------------------------------------------------------------ watch events

    def add_event(self, rv: int, etype: str, key: Key, body: str) -> None:
        self.conn.execute(
            "INSERT INTO events(rv, grp, kind, ns, name, type, body) VALUES(?,?,?,?,?,?,?)",
            (rv, *key, etype, body),
        )
        if rv % 512 == 0:
            self._prune_events()

    def _prune_events(self) -> None:
        row = self.conn.execute(
            "SELECT rv FROM events ORDER BY rv DESC LIMIT 1 OFFSET ?", (EVENT_HISTORY,)
        ).fetchone()
        if row is None:
            return
        cutoff = int(row[0])
        self.conn.execute("DELETE FROM events WHERE rv <= ?", (cutoff,))
        self.conn.execute(
            "INSERT INTO meta(key, value) VALUES('events_pruned_upto', ?) "
            "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
            (json.dumps(cutoff),),
        )

    def events_pruned_upto(self) -> int:
        row = self.conn.execute("SELECT value FROM meta WHERE key='events_pruned_upto'").fetchone()
        return int(json.loads(row[0])) if row else 0

    def events_after(
        self, rv: int, group: str, kind: str, namespace: str | None, limit: int = 500
    ) -> list[tuple[int, str, dict[str, Any]]]:
        if namespace is None:
            rows = self.conn.execute(
                "SELECT rv, type, body FROM events WHERE grp=? AND kind=? AND rv>? ORDER BY rv LIMIT ?",
                (group, kind, rv, limit),
            )
        else:
            rows = self.conn.execute(
                "SELECT rv, type, body FROM events WHERE grp=? AND kind=? AND ns=? AND rv>? ORDER BY rv LIMIT ?",
                (group, kind, namespace, rv, limit),
            )
        return [(int(r[0]), r[1], json.loads(r[2])) for r in rows]

    # ------------------------------------------------------------ controller queue

    def enqueue(self, key: Key, at: float) -> None:
        self.conn.execute(
            "INSERT INTO due(grp, kind, ns, name, at) VALUES(?,?,?,?,?) "
            "ON CONFLICT(grp, kind, ns, name) DO UPDATE SET at=min(at, excluded.at)",
            (*key, at),
        )

    def probe(self) -> tuple[Any, float | None]:
        """The stored clock state and the earliest due time, in one round trip."""
        with self.lock:
            row = self.conn.execute(
                "SELECT (SELECT value FROM meta WHERE key='clock'), (SELECT min(at) FROM due)"
            ).fetchone()
        clock = json.loads(row[0]) if row and row[0] else None
        return clock, (float(row[1]) if row and row[1] is not None else None)

    def has_due(self, now: float) -> bool:
        with self.lock:
            return self.conn.execute("SELECT 1 FROM due WHERE at <= ? LIMIT 1", (now,)).fetchone() is not None

    def pop_due(self, now: float, limit: int) -> list[Key]:
        rows = self.conn.execute(
            "SELECT grp, kind, ns, name FROM due WHERE at <= ? ORDER BY at LIMIT ?", (now, limit)
        ).fetchall()
        keys = [(r[0], r[1], r[2], r[3]) for r in rows]
        self.conn.executemany("DELETE FROM due WHERE grp=? AND kind=? AND ns=? AND name=?", keys)
        return keys

    def next_due(self) -> float | None:
        row = self.conn.execute("SELECT min(at) FROM due").fetchone()
        return float(row[0]) if row and row[0] is not None else None
