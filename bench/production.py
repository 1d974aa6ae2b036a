"""The production setup of the load run, started and stopped by the bench itself, on the
loopback only: a copy of the bench database (each run starts from the same data, and the
seeded month stays unsettled for `bench run`), PgBouncer in transaction pooling mode in
front of it, gunicorn with N sync workers in production settings connecting through the
bouncer, the shared Redis cache and broker, and a Celery worker and beat running the
periodic jobs meanwhile."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from .throughput import HOST, server_environment

PGBOUNCER = os.environ.get("PGBOUNCER", "/usr/sbin/pgbouncer")
# Several web processes, the worker and beat share the cache and the broker; the bench
# takes a Redis database of its own.
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")
# Server connections PgBouncer keeps to PostgreSQL: enough for every process's one
# connection at once, fewer than PostgreSQL's default 100.
POOL_SIZE = 20


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _quoted(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def pgbouncer_version() -> tuple[int, ...]:
    """PgBouncer's version, from ``pgbouncer --version`` ("PgBouncer 1.18.0" first)."""
    shown = subprocess.run([PGBOUNCER, "--version"], capture_output=True, text=True, check=True)
    return tuple(int(part) for part in shown.stdout.split()[1].split("."))


def keeps_prepared_statements() -> bool:
    """Whether this PgBouncer keeps a client's prepared statements whatever server
    connection it hands them (max_prepared_statements, from 1.21) and understands the
    DEALLOCATE ALL psycopg sends after any rollback (from 1.22): then the app prepares
    its compiled queries behind it, as in docker-compose.yml."""
    return pgbouncer_version() >= (1, 22)


def pgbouncer_configuration(
    *,
    database: str,
    server_host: str,
    server_port: int,
    port: int,
    folder: Path,
    pool_size: int,
    wait_seconds: int = 30,
    more: tuple[str, ...] = (),
) -> str:
    """PgBouncer's configuration: transaction pooling, loopback only, TCP only; a client
    waiting for a server connection fails after ``wait_seconds``; ``more`` lines added.
    The suite's bouncer (tests/pgbouncer.py) is made from it too."""
    return (
        "\n".join(
            [
                "[databases]",
                f"{database} = host={server_host} port={server_port} dbname={database}",
                "[pgbouncer]",
                f"listen_addr = {HOST}",
                f"listen_port = {port}",
                "unix_socket_dir =",
                "pool_mode = transaction",
                f"default_pool_size = {pool_size}",
                "min_pool_size = 0",
                "reserve_pool_size = 0",
                "max_client_conn = 200",
                # PostgreSQL checks the role's own password, if any; the auth file holds it.
                "auth_type = trust",
                f"auth_file = {folder / 'users.txt'}",
                "ignore_startup_parameters = extra_float_digits,options",
                f"query_wait_timeout = {wait_seconds}",
                "logfile =",
                "pidfile =",
                *more,
            ]
        )
        + "\n"
    )


@dataclass(frozen=True)
class Database:
    """Where the bench database is, from a Django settings dict."""

    host: str
    port: int
    name: str
    user: str
    password: str

    @classmethod
    def of(cls, settings_dict: dict[str, Any]) -> Database:
        return cls(
            host=settings_dict["HOST"] or HOST,
            port=int(settings_dict["PORT"] or 5432),
            name=settings_dict["NAME"],
            user=settings_dict["USER"] or "",
            password=settings_dict["PASSWORD"] or "",
        )

    def url(self, *, host: str | None = None, port: int | None = None, name: str = "") -> str:
        secret = f":{self.password}" if self.password else ""
        return (
            f"postgres://{self.user}{secret}@{host or self.host}:{port or self.port}"
            f"/{name or self.name}"
        )


@contextmanager
def copy_of(source: Database, owner: Database, name: str) -> Iterator[Database]:
    """A copy of ``source`` made by its owner (a file copy: seconds, not a reload), dropped
    on the way out. No one may be connected to ``source`` meanwhile."""

    def admin() -> psycopg.Connection[Any]:
        return psycopg.connect(
            host=owner.host,
            port=owner.port,
            user=owner.user or None,
            password=owner.password or None,
            dbname="postgres",
            autocommit=True,
        )

    target = sql.Identifier(name)
    with admin() as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(target))
        connection.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {} STRATEGY FILE_COPY").format(
                target, sql.Identifier(source.name)
            )
        )
    try:
        yield Database(source.host, source.port, name, source.user, source.password)
    finally:
        with admin() as connection:
            connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(target))


def _stop(process: subprocess.Popen[bytes], timeout: float = 20) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def pgbouncer(database: Database, folder: Path) -> Iterator[int]:
    """PgBouncer on a free local port in front of ``database``; its port."""
    if not Path(PGBOUNCER).exists():
        raise RuntimeError(
            f"PgBouncer is not installed at {PGBOUNCER} (scripts/need.sh pgbouncer)."
        )
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "users.txt").write_text(f"{_quoted(database.user)} {_quoted(database.password)}\n")
    port = free_port()
    (folder / "pgbouncer.ini").write_text(
        pgbouncer_configuration(
            database=database.name,
            server_host=database.host,
            server_port=database.port,
            port=port,
            folder=folder,
            pool_size=POOL_SIZE,
            more=("max_prepared_statements = 200",) if keeps_prepared_statements() else (),
        )
    )
    as_user: list[str] = []
    if os.geteuid() == 0:  # PgBouncer will not run as root; its files are read first.
        as_user = ["-u", "nobody"]
    with (folder / "pgbouncer.log").open("wb") as log:
        process = subprocess.Popen(
            [PGBOUNCER, *as_user, str(folder / "pgbouncer.ini")], stdout=log, stderr=log
        )
    try:
        _wait(lambda: _answers(database, port), process, "PgBouncer")
        yield port
    finally:
        _stop(process)


def _answers(database: Database, port: int) -> bool:
    try:
        psycopg.connect(database.url(port=port), connect_timeout=2).close()
    except psycopg.OperationalError:
        return False
    return True


def _wait(ready: Any, process: subprocess.Popen[bytes], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} stopped with exit code {process.returncode}.")
        if ready():
            return
        time.sleep(0.2)
    raise RuntimeError(f"{what} was not ready within {timeout:g} seconds.")


def environment(scratch: Path, database_url: str) -> dict[str, str]:
    """Production settings (DEBUG off) with the bench's URLconf (the floor view), through
    the bouncer, on the shared Redis."""
    return {
        **server_environment(scratch, database_url),
        "DJANGO_SETTINGS_MODULE": "bench.served",
        "DATABASE_OWNER_URL": "",
        "CACHE_URL": REDIS_URL.replace("redis://", "rediscache://", 1),
        "CELERY_BROKER_URL": REDIS_URL,
        # Emails are written (by the worker) and thrown away: nothing leaves the machine.
        "EMAIL_URL": "consolemail://",
        "DATABASE_PREPARED_STATEMENTS": str(keeps_prepared_statements()).lower(),
    }


@dataclass
class Served:
    port: int
    gunicorn: subprocess.Popen[bytes]
    logs: Path

    @property
    def host(self) -> str:
        return f"http://{HOST}:{self.port}"

    def worker_pids(self) -> list[int]:
        return children(self.gunicorn.pid)


@contextmanager
def served(base: Path, database_url: str, processes: int) -> Iterator[Served]:
    """gunicorn with ``processes`` sync workers, a Celery worker and beat, all stopped on
    the way out (and the broker's queue emptied of what they left)."""
    with ExitStack() as stack:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-load-")))
        env = environment(scratch, database_url)
        python = sys.executable
        subprocess.run(
            [python, str(base / "manage.py"), "collectstatic", "--noinput", "-v0"],
            env=env,
            check=True,
            cwd=base,
        )
        logs = scratch / "logs"
        logs.mkdir()

        def start(name: str, command: list[str]) -> subprocess.Popen[bytes]:
            with (logs / f"{name}.log").open("wb") as log:
                process = subprocess.Popen(command, cwd=base, env=env, stdout=log, stderr=log)
            stack.callback(_stop, process)
            return process

        celery = [python, "-m", "celery", "-A", "microsolidarity"]
        start("worker", [*celery, "worker", "--pool", "solo", "--loglevel", "WARNING"])
        start("beat", [*celery, "beat", "--loglevel", "WARNING", "-s", str(scratch / "beat")])
        stack.callback(
            subprocess.run,
            [*celery, "purge", "-f"],
            cwd=base,
            env=env,
            capture_output=True,
            timeout=60,
        )
        port = free_port()
        server = start(
            "gunicorn",
            [
                python,
                "-m",
                "gunicorn",
                "microsolidarity.wsgi:application",
                f"--workers={processes}",
                f"--bind={HOST}:{port}",
                "--log-level=warning",
                "--timeout=60",
            ],
        )
        _wait(lambda: _serving(port), server, "gunicorn")
        yield Served(port, server, logs)


def _serving(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://{HOST}:{port}/accounts/login/", timeout=5) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (gunicorn's workers), from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The command may hold spaces and parentheses: the fields follow the last ")".
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return sorted(found)


def rss_mb(pid: int) -> float:
    """A process's resident memory in MB (VmRSS of /proc/PID/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
