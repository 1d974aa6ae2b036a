"""The load run's members, driven by locust as a library: `python -m bench.swarm IN OUT`
reads who the members are and where the server is from the JSON file IN, signs each in
with their own session, lets them act for the given seconds and writes every timing and
failure to OUT. It runs in a process of its own, because locust patches the standard
library for gevent on import, which the Django process starting the servers must not be.

Only the loopback address in IN is spoken to. Requests say they came through a
TLS-terminating proxy (X-Forwarded-Proto), as they do in production, so that the app's
secure cookies and its CSRF origin check are exercised as a browser meets them; and that
proxy says each member's own address (X-Forwarded-For, one of the range RFC 2544 keeps for
benchmarks), as members of many congregations have: the limits per address on signing in
count each apart, as they would."""

from __future__ import annotations

import json
import random
import re
import sys
import time
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import gevent
from locust import HttpUser, events, task
from locust.env import Environment

from bench.cpu import busy_cpu_seconds
from bench.mix import ACTIONS, FLOOR, SIGN_IN, WAIT_SECONDS, member_address, weight_of

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
KEY = re.compile(r'name="request_key" value="([^"]+)"')


class Recorder:
    """Every action's timings and failures, from the moment the run starts counting."""

    def __init__(self) -> None:
        self.timings: dict[str, list[float]] = defaultdict(list)
        self.failures: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.counting = False

    def add(self, name: str, ms: float, failure: str = "") -> None:
        if not self.counting and name != SIGN_IN:
            return
        self.timings[name].append(ms)
        if failure:
            self.failures[name][failure] += 1


RECORD = Recorder()
CONFIG: dict[str, Any] = {}
QUEUE: list[dict[str, Any]] = []
SIGNED_IN: list[int] = [0]


def form_field(html: str, after: str, pattern: re.Pattern[str]) -> str:
    """The first value ``pattern`` finds after the text ``after`` (a form's action)."""
    start = html.find(after)
    found = pattern.search(html, start if start >= 0 else 0)
    if found is None:
        raise LookupError(f"no {pattern.pattern!r} after {after!r}")
    return found.group(1)


class Member(HttpUser):
    """One member of one congregation, in their own session."""

    def wait_time(self) -> float:
        return random.uniform(*WAIT_SECONDS)

    def on_start(self) -> None:
        self.me = QUEUE.pop()
        self.client.headers["X-Forwarded-Proto"] = "https"
        self.client.headers["X-Forwarded-For"] = member_address(len(QUEUE))
        self.origin = CONFIG["host"].replace("http://", "https://")
        self.scheduled = 0
        self.open = list(self.me["open_meetings"])
        self.logged: list[int] = []
        self.invitations = list(self.me["invitations"])
        started = time.perf_counter()
        failure = ""
        try:
            page = self.client.get("/accounts/login/", name=SIGN_IN)
            self.keep_cookies()
            token = TOKEN.search(page.text)
            answer = self.client.post(
                "/accounts/login/",
                data={
                    "login": self.me["email"],
                    "password": CONFIG["password"],
                    "csrfmiddlewaretoken": token.group(1) if token else "",
                },
                headers=self.posted("/accounts/login/"),
                allow_redirects=False,
                name=SIGN_IN,
            )
            self.keep_cookies()
            if answer.status_code != 302 or "sessionid" not in self.client.cookies:
                failure = f"HTTP {answer.status_code}"
        except Exception as error:
            failure = type(error).__name__
        RECORD.add(SIGN_IN, (time.perf_counter() - started) * 1000, failure)
        SIGNED_IN[0] += 1
        if CONFIG["floor"]:
            self.tasks = [Member.floor]
        while not RECORD.counting:
            gevent.sleep(0.05)

    def keep_cookies(self) -> None:
        """The app's cookies are Secure, sent only over TLS, which the loopback stands in
        for here: the cookie jar is told to send them over plain HTTP too."""
        for cookie in self.client.cookies:
            cookie.secure = False

    # What every request shares: a name, its timing, and what counts as success.

    def posted(self, path: str) -> dict[str, str]:
        return {"Origin": self.origin, "Referer": self.origin + path}

    def act(
        self,
        name: str,
        method: str,
        path: str,
        *,
        expect: int = 200,
        data: Any = None,
        headers: dict[str, str] | None = None,
        check: Any = None,
    ) -> tuple[bool, str]:
        """Send one request as ``name``; (whether it succeeded, the page it answered)."""
        started = time.perf_counter()
        failure, text = "", ""
        try:
            response = self.client.request(
                method,
                path,
                data=data,
                headers=headers,
                allow_redirects=False,
                name=name,
            )
            self.keep_cookies()
            text = response.text
            if response.status_code != expect:
                failure = f"HTTP {response.status_code}"
                if response.is_redirect:  # where to tells why: the sign-in page, an error
                    failure += " to " + response.headers["Location"].split("?")[0]
            elif check is not None and not check(text):
                failure = "refused"
        except Exception as error:
            failure = type(error).__name__
        RECORD.add(name, (time.perf_counter() - started) * 1000, failure)
        return not failure, text

    def c(self, rest: str) -> str:
        return f"/c/{self.me['slug']}/{rest}"

    def token(self) -> str:
        return str(self.client.cookies.get("csrftoken", ""))

    def meeting(self) -> int:
        return int(self.open[0] if self.open else self.me["open_meetings"][-1])

    # Reads.

    @task(weight_of("congregation home"))
    def home(self) -> None:
        self.act("congregation home", "GET", self.c(""))

    @task(weight_of("crew page"))
    def crew(self) -> None:
        self.act("crew page", "GET", self.c(f"crews/{self.me['crew']}/"))

    @task(weight_of("crew scores"))
    def scores(self) -> None:
        self.act("crew scores", "GET", self.c(f"crews/{self.me['crew']}/scores/"))

    @task(weight_of("my page"))
    def my_page(self) -> None:
        self.act("my page", "GET", self.c("me/"))

    @task(weight_of("meeting page"))
    def meeting_page(self) -> None:
        self.act("meeting page", "GET", self.c(f"meetings/{self.meeting()}/"))

    # Writes.

    @task(weight_of("attendance tap"))
    def tap(self) -> None:
        member = random.choice(self.me["members"])
        path = self.c(f"meetings/{self.meeting()}/attendance/{member}/")
        self.act(
            "attendance tap",
            "POST",
            path,
            data={"present": "1"},
            headers={"HX-Request": "true", "X-CSRFToken": self.token(), **self.posted(path)},
            check=lambda html: 'aria-pressed="true"' in html and "errorlist" not in html,
        )

    @task(weight_of("schedule a meeting"))
    def schedule(self) -> None:
        crew_path = self.c(f"crews/{self.me['crew']}/")
        read, page = self.act("crew page", "GET", crew_path)
        if not read:
            return
        path = self.c(f"crews/{self.me['crew']}/meetings/new/")
        self.scheduled += 1
        # Noon in the crew's timezone (never in a clock change's gap), a day further each time.
        day = datetime.now(ZoneInfo(self.me["timezone"])).date()
        when = day + timedelta(days=20 + self.scheduled)
        self.act(
            "schedule a meeting",
            "POST",
            path,
            expect=302,
            data={
                "csrfmiddlewaretoken": form_field(page, path, TOKEN),
                "request_key": form_field(page, path, KEY),
                "date": date.isoformat(when),
                "time": "12:00",
                "place": "The library",
                "agenda": "Check-in, then the money round.",
            },
            headers=self.posted(crew_path),
        )

    @task(weight_of("log a meeting"))
    def log(self) -> None:
        if len(self.open) < 2:  # the last one stays open for taps and the meeting page
            RECORD.add("log a meeting", 0.0, "no meeting left to log")
            return
        meeting = self.open.pop(0)
        path = self.c(f"meetings/{meeting}/log/")
        logged, _ = self.act(
            "log a meeting",
            "POST",
            path,
            expect=302,
            data={
                "csrfmiddlewaretoken": self.token(),
                "reflections": "We caught up; two of us changed jobs.",
                "envisioning": "A shared garden in spring.",
            },
            headers=self.posted(self.c(f"meetings/{meeting}/")),
        )
        if logged:
            self.logged.append(meeting)

    @task(weight_of("listening round"))
    def listening_round(self) -> None:
        if not self.logged:
            # Nothing logged yet this run: open the rounds page of the meeting being tapped.
            self.act("rounds page", "GET", self.c(f"meetings/{self.meeting()}/rounds/"))
            return
        meeting = self.logged.pop(0)
        rounds = self.c(f"meetings/{meeting}/rounds/")
        read, page = self.act("rounds page", "GET", rounds)
        if not read:
            return
        path = self.c(f"meetings/{meeting}/rounds/listening/")
        self.act(
            "listening round",
            "POST",
            path,
            expect=302,
            data={
                "csrfmiddlewaretoken": form_field(page, path, TOKEN),
                "request_key": form_field(page, path, KEY),
                "participants": self.me["members"],
                "everyone_listened": "on",
            },
            headers=self.posted(rounds),
        )

    @task(weight_of("answer an invitation"))
    def answer(self) -> None:
        if not self.invitations:
            RECORD.add("answer an invitation", 0.0, "no invitation left to answer")
            return
        invitation = self.invitations.pop(0)
        path = self.c(f"crews/invitations/{invitation}/")
        self.act(
            "answer an invitation",
            "POST",
            path,
            expect=302,
            data={"csrfmiddlewaretoken": self.token(), "answer": "decline"},
            headers=self.posted(self.c("")),
        )

    # The framework floor, asked for by the same members at the same pace.

    def floor(self) -> None:
        self.act(FLOOR, "GET", "/bench/floor/")


def main(config_path: str, out_path: str) -> None:
    CONFIG.update(json.loads(Path(config_path).read_text()))
    QUEUE.extend(reversed(CONFIG["members"]))
    users = len(CONFIG["members"])
    Member.host = CONFIG["host"]
    env = Environment(user_classes=[Member], events=events)
    runner = env.create_local_runner()
    runner.start(users, spawn_rate=users)
    deadline = time.monotonic() + CONFIG["sign_in_timeout"]
    while SIGNED_IN[0] < users and time.monotonic() < deadline:
        gevent.sleep(0.1)
    RECORD.counting = True
    began, machine, own = time.monotonic(), busy_cpu_seconds(), time.process_time()
    gevent.sleep(CONFIG["seconds"])
    RECORD.counting = False
    elapsed = time.monotonic() - began
    # What the machine spent on all but this process (the servers, PostgreSQL, PgBouncer,
    # Redis, the worker and beat) while it counted: the load generator shares the cores.
    served_cpu = busy_cpu_seconds() - machine - (time.process_time() - own)
    runner.quit()
    names = [FLOOR] if CONFIG["floor"] else [a.name for a in ACTIONS] + ["rounds page"]
    Path(out_path).write_text(
        json.dumps(
            {
                "seconds": elapsed,
                "served_cpu_seconds": served_cpu,
                "signed_in": SIGNED_IN[0],
                "timings": {n: RECORD.timings.get(n, []) for n in [SIGN_IN, *names]},
                "failures": {n: dict(f) for n, f in RECORD.failures.items()},
            }
        )
    )


if __name__ == "__main__":
    main(*sys.argv[1:3])
