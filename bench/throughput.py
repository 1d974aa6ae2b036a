"""Throughput: the app under gunicorn with 2 workers, in production settings against the
bench database, and 20 members each signed in with their own session, asking for a mix
of pages for 30 seconds. Only 127.0.0.1 is spoken to, and everything stops by itself."""

from __future__ import annotations

import http.client
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

from django.conf import settings

from .pages import Sample, percentile
from .world import PASSWORD

HOST = "127.0.0.1"
CLIENTS = 20
SECONDS = 30.0
WORKERS = 2
TIMEOUT = 30.0  # seconds one request may take before it counts as an error
TOKEN = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')


@dataclass
class Throughput:
    clients: int
    seconds: float
    requests: int
    errors: int
    requests_per_second: float
    median_ms: float
    p95_ms: float
    statuses: dict[str, int] = field(default_factory=dict)


class Visitor:
    """One member's browser: a cookie jar and plain HTTP/1.1 to the local server."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(
        self, method: str, path: str, body: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection(HOST, self.port, timeout=TIMEOUT)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        data = None
        if body is not None:
            data = urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=data, headers=headers)
            response = connection.getresponse()
            content = response.read()
            for header in response.headers.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(header).items():
                    self.cookies[name] = morsel.value
            return response.status, content
        finally:
            connection.close()

    def token(self, path: str) -> str:
        """The CSRF token of the form at ``path``."""
        status, page = self.request("GET", path)
        token = TOKEN.search(page)
        if status != 200 or token is None:
            raise RuntimeError(f"{path} answered {status}.")
        return token.group(1).decode()

    def sign_in(self, email: str) -> None:
        form = {
            "login": email,
            "password": PASSWORD,
            "csrfmiddlewaretoken": self.token("/accounts/login/"),
        }
        status, _ = self.request("POST", "/accounts/login/", form)
        if status != 302 or "sessionid" not in self.cookies:
            raise RuntimeError(f"{email} could not sign in (HTTP {status}).")

    def sign_out(self) -> None:
        """Leave no session behind: signed with this server's throwaway key, it would be
        unreadable to the next run's, whose sign-in of the same member looks through the
        member's sessions."""
        form = {"csrfmiddlewaretoken": self.token("/accounts/logout/")}
        self.request("POST", "/accounts/logout/", form)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def server_environment(scratch: Path, database_url: str | None = None) -> dict[str, str]:
    """Production settings (DEBUG off, collected static files) against the bench database
    (or ``database_url``)."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "microsolidarity.settings",
        "DATABASE_URL": database_url or os.environ["DATABASE_URL"],
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": HOST,
        "SECURE_SSL_REDIRECT": "false",
        "STATIC_ROOT": str(scratch / "static"),
        "DATA_DIR": str(scratch),
        "LOG_LEVEL": "WARNING",
    }


@contextmanager
def gunicorn() -> Iterator[int]:
    """A gunicorn serving the app on a free local port, stopped on the way out."""
    base = Path(settings.BASE_DIR)
    with tempfile.TemporaryDirectory(prefix="microsolidarity-bench-") as scratch:
        env = server_environment(Path(scratch))
        manage = [sys.executable, str(base / "manage.py")]
        subprocess.run([*manage, "collectstatic", "--noinput", "-v0"], env=env, check=True)
        port = free_port()
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "microsolidarity.wsgi:application",
                f"--workers={WORKERS}",
                f"--bind={HOST}:{port}",
                "--log-level=warning",
            ],
            cwd=base,
            env=env,
        )
        try:
            _wait_until_serving(server, port)
            yield port
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def _wait_until_serving(server: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn stopped with exit code {server.returncode}.")
        try:
            if Visitor(port).request("GET", "/accounts/login/")[0] == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not answer within 30 seconds.")


def run(members: list[Sample], paths: list[str], seconds: float = SECONDS) -> Throughput:
    """``len(members)`` visitors, each signed in as their member, asking in turn for each
    of ``paths`` (formatted with their congregation and crew) until ``seconds`` pass."""
    with gunicorn() as port:
        visitors = []
        for sample in members:
            visitor = Visitor(port)
            visitor.sign_in(sample.member.email)
            visitors.append(visitor)
        timings: list[float] = []
        statuses: Counter[str] = Counter()
        lock = threading.Lock()
        start = threading.Barrier(len(visitors) + 1)
        stop_at = [0.0]

        def browse(number: int, visitor: Visitor, sample: Sample) -> None:
            start.wait()
            turn = number
            while time.monotonic() < stop_at[0]:
                path = sample.path(paths[turn % len(paths)])
                turn += 1
                began = time.monotonic()
                try:
                    status = str(visitor.request("GET", path)[0])
                except OSError as error:
                    status = type(error).__name__
                took = (time.monotonic() - began) * 1000
                with lock:
                    timings.append(took)
                    statuses[status] += 1

        threads = [
            threading.Thread(target=browse, args=(n, v, s), daemon=True)
            for n, (v, s) in enumerate(zip(visitors, members, strict=True))
        ]
        for thread in threads:
            thread.start()
        began = time.monotonic()
        stop_at[0] = began + seconds
        start.wait()
        for thread in threads:
            thread.join(timeout=seconds + TIMEOUT + 5)
        elapsed = time.monotonic() - began
        for visitor in visitors:
            visitor.sign_out()
    done = len(timings)
    return Throughput(
        clients=len(visitors),
        seconds=round(elapsed, 1),
        requests=done,
        errors=done - statuses["200"],
        requests_per_second=done / elapsed,
        median_ms=percentile(timings, 0.5) if timings else 0.0,
        p95_ms=percentile(timings, 0.95) if timings else 0.0,
        statuses=dict(statuses),
    )
