"""A real PgBouncer in transaction pooling mode, started for a test on a free port in
front of the test database, and the Django connection sent through it.

The pool holds one server connection (``pool_size=1``), so every client of the bouncer
takes its turns on the same PostgreSQL backend: whatever one client's transaction leaves
behind on it, the next client's transaction would find. That is what lets a test prove
the tenant setting never leaks, and why a test must not start a second client's query
while another client holds a transaction open (it would wait for the one server
connection; ``query_wait_timeout`` makes such a mistake fail in seconds, not hang).

Use ``pgbouncer_for(connection.settings_dict)`` to start one and ``through(bouncer)`` to
route Django's default connection (which every service, ``transaction.atomic()`` and the
tenant boundary use) through it. Both need committed rows and a connection Django does
not hold in a test transaction: use them with ``transactional_db``."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from django.db import connection

# PGBOUNCER: Debian's package, or the binary the environment names (`scripts/need.sh
# pgbouncer` installs it on Debian).
from bench.production import PGBOUNCER, pgbouncer_configuration, pgbouncer_version

from .waiting import wait_for

# PgBouncer refuses to run as root ("PgBouncer should not run as root"). Started as root
# (as in CI's containers) it is given `-u nobody`: it reads its configuration and auth
# file first, as root, from a directory only root can read, and then drops to a user that
# can read nothing of ours. It is never reloaded (SIGHUP), which would re-read them as
# nobody and fail.
UNPRIVILEGED_USER = "nobody"


@dataclass(frozen=True)
class PgBouncer:
    host: str
    port: int
    dbname: str
    user: str
    password: str
    log: Path

    def connect(self) -> psycopg.Connection[tuple[Any, ...]]:
        """A client of the bouncer of its own, outside Django, in autocommit: each
        statement is its own transaction unless it is inside ``with conn.transaction()``.
        It prepares nothing, as the app does not."""
        return psycopg.connect(
            host=self.host,
            port=self.port,
            dbname=self.dbname,
            user=self.user,
            password=self.password or None,
            autocommit=True,
            prepare_threshold=None,
            connect_timeout=5,
        )

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def _quoted(value: str) -> str:
    """A value of PgBouncer's auth file: in double quotes, a double quote doubled."""
    return '"' + value.replace('"', '""') + '"'


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _configuration(database: dict[str, Any], folder: Path, port: int, pool_size: int) -> str:
    # From 1.21 PgBouncer can track prepared statements; off, so that the test proves the
    # app prepares none (Debian 12's 1.18 cannot, and would refuse the key).
    return pgbouncer_configuration(
        database=database["NAME"],
        server_host=database["HOST"] or "127.0.0.1",
        server_port=int(database["PORT"] or 5432),
        port=port,
        folder=folder,
        pool_size=pool_size,
        # A client waiting for the one server connection fails after this many seconds.
        wait_seconds=10,
        more=("max_prepared_statements = 0",) if pgbouncer_version() >= (1, 21) else (),
    )


@contextmanager
def pgbouncer_for(
    database: dict[str, Any], *, pool_size: int = 1, roles: dict[str, str] | None = None
) -> Iterator[PgBouncer]:
    """PgBouncer in transaction pooling mode on a free port, in front of ``database`` (a
    Django settings dict, e.g. ``connection.settings_dict`` during a test), until the
    block ends; then it is stopped and its files removed. Its auth file lists the
    database's role and ``roles`` (name: password), the only roles it lets in."""
    if not Path(PGBOUNCER).exists():
        raise RuntimeError(
            f"PgBouncer is not installed at {PGBOUNCER}: run `scripts/need.sh pgbouncer` "
            "(Debian), or set PGBOUNCER to its path."
        )
    user = database["USER"] or pwd.getpwuid(os.getuid()).pw_name
    password = database["PASSWORD"] or ""
    folder = Path(tempfile.mkdtemp(prefix="pgbouncer-"))
    log = folder / "pgbouncer.log"
    process: subprocess.Popen[bytes] | None = None
    try:
        logins = {user: password, **(roles or {})}
        (folder / "users.txt").write_text(
            "".join(f"{_quoted(name)} {_quoted(secret)}\n" for name, secret in logins.items())
        )
        port = _free_port()
        (folder / "pgbouncer.ini").write_text(_configuration(database, folder, port, pool_size))
        as_user = ["-u", UNPRIVILEGED_USER] if os.geteuid() == 0 else []
        with log.open("wb") as output:
            # Its log goes to stderr, into a file we opened, whichever user it runs as.
            process = subprocess.Popen(
                [PGBOUNCER, *as_user, str(folder / "pgbouncer.ini")],
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        bouncer = PgBouncer(
            host="127.0.0.1",
            port=port,
            dbname=database["NAME"],
            user=user,
            password=password,
            log=log,
        )
        wait_for(
            lambda: _answers(bouncer, process),
            timeout=10,
            what=f"PgBouncer to accept connections on port {port}",
        )
        yield bouncer
    finally:
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(folder, ignore_errors=True)


def _answers(bouncer: PgBouncer, process: subprocess.Popen[bytes]) -> bool:
    if process.poll() is not None:
        raise RuntimeError(f"PgBouncer exited with {process.returncode}:\n{bouncer.output()}")
    try:
        bouncer.connect().close()
    except psycopg.OperationalError:
        return False
    return True


@contextmanager
def through(bouncer: PgBouncer) -> Iterator[None]:
    """Django's default connection goes through ``bouncer`` until the block ends: every
    service, ``transaction.atomic()`` and raw cursor of the app then talks to PostgreSQL
    the way a hosted deployment behind PgBouncer does."""
    settings = connection.settings_dict
    # Not while a transaction is open: closing would drop it silently.
    assert not connection.in_atomic_block, "through() needs transactional_db"
    saved = {key: settings[key] for key in ("HOST", "PORT")}
    connection.close()
    settings.update(HOST=bouncer.host, PORT=bouncer.port)
    try:
        yield
    finally:
        connection.close()
        settings.update(saved)
