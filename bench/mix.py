"""What the members of the load run do, and how their numbers are judged: plain data and
arithmetic, without Django or locust, so that the tests can check them.

The mix, by request (each member waits 0.1–0.5 s between actions, as a person reading a
page does; weights are of actions, chosen so that requests come out at 85 % reads and
15 % writes, because scheduling and recording a round read the page holding the form
first, as a browser does):

| action | weight | requests | what a member does |
|---|---|---|---|
| congregation home | 20 | GET | opens their congregation |
| crew page | 16 | GET | opens their crew |
| crew scores | 15 | GET | looks at the crew's scores |
| my page | 15 | GET | looks at their own page |
| meeting page | 15 | GET | opens the meeting being logged |
| attendance tap | 7 | POST (htmx) | taps a name present on a meeting that has started |
| schedule a meeting | 2 | GET crew page + POST | schedules the crew's next meeting |
| log a meeting | 2 | POST | logs a started meeting with whoever was tapped present |
| listening round | 2 | GET rounds page + POST | records a round for a meeting just logged |
| answer an invitation | 2 | POST | says no to a crew that invited them |

Every POST carries the CSRF token as a browser sends it (the form field, or htmx's
X-CSRFToken header for taps) and must succeed: a status other than the one success
answers with (302 after a form, 200 with the button pressed for a tap), or a refusal in
the answer, counts as an error, under the action's name, with the status it got."""

from __future__ import annotations

import math
from dataclasses import dataclass

READ, WRITE = "read", "write"


@dataclass(frozen=True)
class Action:
    name: str
    weight: int
    kind: str  # READ or WRITE
    reads_first: str = ""  # the page a write opens first, counted as that page's read


ACTIONS = (
    Action("congregation home", 20, READ),
    Action("crew page", 16, READ),
    Action("crew scores", 15, READ),
    Action("my page", 15, READ),
    Action("meeting page", 15, READ),
    Action("attendance tap", 7, WRITE),
    Action("schedule a meeting", 2, WRITE, reads_first="crew page"),
    Action("log a meeting", 2, WRITE),
    Action("listening round", 2, WRITE, reads_first="rounds page"),
    Action("answer an invitation", 2, WRITE),
)
FLOOR = "framework floor"
SIGN_IN = "sign in"
WAIT_SECONDS = (0.1, 0.5)
# How long the members who signed in first may act before the last has signed in.
SIGNING_IN_SECONDS = 30


def member_address(n: int) -> str:
    """The ``n``th member's own address, as the proxy in front of the app says it: one of
    the 131,072 of 198.18.0.0/15, the range RFC 2544 keeps for benchmarks."""
    if not 0 <= n < 2**17:
        raise ValueError(f"no address for member {n}")
    return f"198.{18 + n // 65536}.{n // 256 % 256}.{n % 256}"


def request_shares(actions: tuple[Action, ...] = ACTIONS) -> dict[str, float]:
    """The share of requests that are reads and writes, for the weights given."""
    reads = sum(a.weight for a in actions if a.kind == READ or a.reads_first)
    writes = sum(a.weight for a in actions if a.kind == WRITE)
    total = reads + writes
    return {READ: reads / total, WRITE: writes / total}


def weight_of(name: str) -> int:
    return next(a.weight for a in ACTIONS if a.name == name)


def stock_needed(seconds: float, action: str) -> int:
    """How many of what an action uses up (open meetings to log, invitations to answer)
    one member needs for ``seconds``: the actions a member takes at the average wait (and
    instant answers), from their sign-in on (they act while the others sign in, before the
    run counts), times the action's share; and five standard deviations more (of a Poisson
    count), so that no member of any run runs out (twice the share had let one of sixty
    run out of invitations)."""
    total = sum(a.weight for a in ACTIONS)
    most_actions = (seconds + SIGNING_IN_SECONDS) / (sum(WAIT_SECONDS) / 2)
    expected = most_actions * weight_of(action) / total
    return math.ceil(expected + 5 * math.sqrt(expected)) + 2


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


@dataclass(frozen=True)
class ActionResult:
    name: str
    count: int
    errors: int
    per_second: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    failures: dict[str, int]  # what went wrong: "HTTP 500", "refused", … and how often


def summarise(
    name: str, timings_ms: list[float], failures: dict[str, int], seconds: float
) -> ActionResult:
    count = len(timings_ms)
    return ActionResult(
        name=name,
        count=count,
        errors=sum(failures.values()),
        per_second=count / seconds if seconds else 0.0,
        p50_ms=percentile(timings_ms, 0.50),
        p95_ms=percentile(timings_ms, 0.95),
        p99_ms=percentile(timings_ms, 0.99),
        failures=dict(failures),
    )
