"""The load run's deterministic parts: the mix it runs, how its numbers are judged, the
command's arguments and the PgBouncer configuration it writes. No load is run here, and
nothing is timed: speed is the bench's to measure."""

from __future__ import annotations

import ast
import ipaddress
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management.base import CommandError

from bench import production
from bench.cpu import busy_cpu_seconds
from bench.load_report import LoadReport, LoadRun
from bench.management.commands.load import Command, process_counts
from bench.mix import (
    ACTIONS,
    READ,
    WAIT_SECONDS,
    WRITE,
    ActionResult,
    member_address,
    percentile,
    request_shares,
    stock_needed,
    summarise,
)
from bench.production import pgbouncer_configuration

SWARM = Path(settings.BASE_DIR) / "bench/swarm.py"


def test_the_mix_is_85_percent_reads_and_15_percent_writes_by_request() -> None:
    shares = request_shares()
    assert shares[READ] == pytest.approx(0.85)
    assert shares[WRITE] == pytest.approx(0.15)


def test_the_mix_covers_what_members_do_and_waits_as_people_do() -> None:
    names = {a.name for a in ACTIONS}
    assert {"congregation home", "crew page", "crew scores", "my page", "meeting page"} <= names
    writes = {a.name for a in ACTIONS if a.kind == WRITE}
    assert writes == {
        "attendance tap",
        "schedule a meeting",
        "log a meeting",
        "listening round",
        "answer an invitation",
    }
    assert all(a.weight > 0 for a in ACTIONS)
    assert WAIT_SECONDS == (0.1, 0.5)


def test_every_action_of_the_mix_is_a_task_of_the_swarm_with_its_weight() -> None:
    """Read from the source: importing locust would patch this process for gevent."""
    tree = ast.parse(SWARM.read_text())
    weighted = [
        ast.literal_eval(call.args[0].args[0])
        for call in ast.walk(tree)
        if isinstance(call, ast.Call)
        and getattr(call.func, "id", "") == "task"
        and isinstance(call.args[0], ast.Call)
        and getattr(call.args[0].func, "id", "") == "weight_of"
    ]
    assert sorted(weighted) == sorted(a.name for a in ACTIONS)


def test_each_member_gets_enough_meetings_and_invitations_for_the_run() -> None:
    assert stock_needed(20, "log a meeting") >= 2
    assert stock_needed(60, "log a meeting") > stock_needed(20, "log a meeting")
    # 60 s and 30 s of signing in, at 0.3 s an action, are 300 actions, 2/101 of them
    # logs: 5.9 expected, and 5 standard deviations (12.2) more, plus 2.
    assert stock_needed(60, "log a meeting") == 21


def test_each_member_comes_from_an_address_of_their_own_in_the_benchmark_range() -> None:
    # The limits per address on signing in must count members apart, as members of many
    # congregations on their own networks are: 50 from one address would be refused.
    addresses = [ipaddress.ip_address(member_address(n)) for n in range(2**17)]
    assert len(set(addresses)) == 2**17
    assert all(a in ipaddress.ip_network("198.18.0.0/15") for a in addresses)
    with pytest.raises(ValueError):
        member_address(2**17)


def test_percentiles_are_nearest_rank() -> None:
    values = [float(n) for n in range(1, 101)]
    assert percentile(values, 0.50) == 50
    assert percentile(values, 0.95) == 95
    assert percentile(values, 0.99) == 99
    assert percentile([7.0], 0.99) == 7
    assert percentile([], 0.5) == 0


def test_an_action_is_summarised_with_its_failures() -> None:
    result = summarise("log a meeting", [10.0, 20.0, 30.0, 40.0], {"HTTP 500": 1}, 2.0)
    assert (result.count, result.errors, result.per_second) == (4, 1, 2.0)
    assert (result.p50_ms, result.p95_ms, result.p99_ms) == (20, 40, 40)
    assert result.failures == {"HTTP 500": 1}


def action(name: str = "crew page", p95: float = 100.0, errors: int = 0) -> ActionResult:
    return ActionResult(
        name=name,
        count=100,
        errors=errors,
        per_second=10.0,
        p50_ms=50.0,
        p95_ms=p95,
        p99_ms=p95 + 10,
        failures={"HTTP 500": errors} if errors else {},
    )


def run(processes: int, *, requests: int = 100, **changes: object) -> LoadRun:
    values: dict[str, object] = {
        "processes": processes,
        "seconds": 10.0,
        "signed_in": 20,
        "sign_in": action("sign in"),
        "actions": [action("crew page"), action("log a meeting")],
        "floor": action("framework floor"),
        "worker_rss_mb": [120.0] * processes,
        "verified": {"log a meeting": {"answered": 5, "stored": 5}},
    }
    values.update(changes)
    built = LoadRun(**values)  # type: ignore[arg-type]
    built.seconds = 200 / requests * 10 if requests else 10.0
    return built


def verdicts(*runs: LoadRun, cores: int = 1) -> dict[str, str]:
    report = LoadReport(datetime(2026, 1, 1, tzinfo=UTC), 20, 10.0, list(runs), cores)
    return {t.name: t.verdict for t in report.targets()}


def test_a_good_run_passes_every_target() -> None:
    assert set(verdicts(run(1, requests=450), run(2, requests=600)).values()) == {"pass"}


def test_throughput_per_core_must_double_the_first_runs() -> None:
    """The first run did 43.7 requests/s on 2 cores: 21.85 a core, to be doubled."""
    name = "throughput per core ≥ 2× the first run's"
    # 44 requests/s in the best run: on one core twice the first run's, on two cores not.
    assert verdicts(run(1, requests=100), run(2, requests=440))[name] == "pass"
    assert verdicts(run(1, requests=100), run(2, requests=440), cores=2)[name] == "miss"
    assert verdicts(run(2, requests=880), cores=2)[name] == "pass"


def test_where_the_servers_cpu_was_measured_throughput_is_per_core_they_used() -> None:
    """The first run's app used three quarters of its 2 cores: 29.1 requests a
    CPU-second, to be doubled; the load generator's share of the machine is not the app's."""
    name = "throughput per core ≥ 2× the first run's"
    # 44 requests/s: per core of two, short of twice the first run's; but its 200 requests
    # served in 3.2 CPU-seconds, 62.5 a CPU-second, over twice 29.1.
    lean = run(2, requests=440, served_cpu_seconds=3.2, floor_served_cpu_seconds=5.0)
    assert verdicts(lean, cores=2)[name] == "pass"
    assert lean.per_used_core == 62.5
    assert lean.floor_per_used_core == 20.0  # the floor's 100 requests in 5 CPU-seconds
    busy = run(2, requests=880, served_cpu_seconds=8.0)  # 25 a CPU-second
    assert verdicts(busy, cores=2)[name] == "miss"
    # The most efficient run is judged, not the fastest.
    assert verdicts(busy, lean, cores=2)[name] == "pass"
    report = LoadReport(datetime(2026, 1, 1, tzinfo=UTC), 20, 10.0, [lean], 2)
    (target,) = (t for t in report.targets() if t.name == name)
    assert target.detail == (
        "62.5 requests a CPU-second the servers used (2p; the first run 29.1); the floor "
        "20.0; per core of the machine 22.0 (the first run 21.9)"
    )


def test_the_swarm_reads_the_machines_busy_cpu_seconds() -> None:
    before = busy_cpu_seconds()
    deadline = time.process_time() + 0.2
    while time.process_time() < deadline:  # keep a core busy for 0.2 s
        pass
    assert busy_cpu_seconds() - before >= 0.15


def test_errors_failed_sign_ins_and_writes_the_database_lacks_are_misses() -> None:
    failing = run(1, actions=[action(errors=1)])
    assert verdicts(failing)["0 errors under load"] == "miss"
    locked_out = run(1, sign_in=action("sign in", errors=2))
    assert verdicts(locked_out)["0 errors under load"] == "miss"
    lost = run(1, verified={"log a meeting": {"answered": 5, "stored": 4}})
    assert verdicts(lost)["0 errors under load"] == "miss"
    # A write in flight as the run stopped counting is in the database, not in the count.
    in_flight = run(1, verified={"log a meeting": {"answered": 5, "stored": 6}})
    assert verdicts(in_flight)["0 errors under load"] == "pass"


def test_a_p95_at_250_ms_misses() -> None:
    assert verdicts(run(1, actions=[action(p95=249.9)]))["p95 of every action < 250 ms"] == "pass"
    assert verdicts(run(1, actions=[action(p95=250.0)]))["p95 of every action < 250 ms"] == "miss"


def test_p95_is_held_where_there_is_a_process_for_every_core() -> None:
    """One process on two cores is the curve's saturated end: reported, not judged."""
    queued = run(1, actions=[action(p95=470.0)])
    served = run(2, actions=[action(p95=155.0)])
    report = LoadReport(datetime(2026, 1, 1, tzinfo=UTC), 20, 10.0, [queued, served], 2)
    (p95,) = (t for t in report.targets() if t.name == "p95 of every action < 250 ms")
    assert (p95.verdict, p95.detail) == ("pass", "2p: at most 155 ms (1p, saturated: 470 ms)")
    slow = run(2, actions=[action(p95=260.0)])
    assert verdicts(queued, slow, cores=2)["p95 of every action < 250 ms"] == "miss"
    # On one core, one process is the setup served with.
    assert verdicts(queued, served)["p95 of every action < 250 ms"] == "miss"


def test_throughput_must_grow_from_one_to_two_processes() -> None:
    name = "throughput grows from 1 to 2 processes"
    assert verdicts(run(1, requests=100), run(2, requests=150))[name] == "pass"
    assert verdicts(run(1, requests=100), run(2, requests=100))[name] == "miss"
    assert verdicts(run(4))[name] == "not measured"


def test_a_worker_over_200_mb_misses() -> None:
    name = "each gunicorn worker's RSS ≤ 200 MB"
    assert verdicts(run(2, worker_rss_mb=[150.0, 200.0]))[name] == "pass"
    assert verdicts(run(2, worker_rss_mb=[150.0, 201.0]))[name] == "miss"


def test_the_report_prints_the_curve_and_writes_json(tmp_path: Path) -> None:
    report = LoadReport(
        datetime(2026, 1, 1, tzinfo=UTC), 20, 10.0, [run(1, requests=100), run(2, requests=150)]
    )
    assert "curve: 1p 10.0/s, 2p 15.0/s" in report.table()
    written = report.write(tmp_path).read_text()
    assert '"requests_per_second": 15.0' in written
    assert '"worker_rss_mb"' in written


def test_process_counts_are_parsed_and_checked() -> None:
    assert process_counts("1,2,4") == [1, 2, 4]
    assert process_counts("2") == [2]
    for wrong in ("", "0", "1,-2", "one"):
        with pytest.raises(CommandError):
            process_counts(wrong)


def test_the_command_takes_seconds_users_and_processes() -> None:
    parser = Command().create_parser("python -m bench", "load")
    defaults = parser.parse_args([])
    assert (defaults.seconds, defaults.users, defaults.processes) == (60.0, 20, [1, 2, 4])
    given = parser.parse_args(["--seconds", "20", "--users", "5", "--processes", "1,2"])
    assert (given.seconds, given.users, given.processes) == (20.0, 5, [1, 2])


def test_pgbouncer_pools_transactions_on_the_loopback_only(tmp_path: Path) -> None:
    text = pgbouncer_configuration(
        database="ms_bench_loadrun",
        server_host="127.0.0.1",
        server_port=5432,
        port=6543,
        folder=tmp_path,
        pool_size=20,
    )
    lines = {}
    for line in text.splitlines():
        if not line.startswith("["):
            key, _, value = line.partition(" =")
            lines[key] = value.strip()
    assert lines["ms_bench_loadrun"] == "host=127.0.0.1 port=5432 dbname=ms_bench_loadrun"
    assert lines["pool_mode"] == "transaction"
    assert lines["listen_addr"] == "127.0.0.1"
    assert lines["listen_port"] == "6543"
    assert lines["unix_socket_dir"] == ""
    assert lines["default_pool_size"] == "20"
    assert lines["auth_file"] == str(tmp_path / "users.txt")


@pytest.mark.parametrize(
    ("version", "prepares"), [((1, 18, 0), False), ((1, 21, 0), False), ((1, 22, 0), True)]
)
def test_the_load_run_prepares_statements_only_behind_a_bouncer_that_keeps_them(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, version: tuple[int, ...], prepares: bool
) -> None:
    """1.21 keeps a client's prepared statements but not the DEALLOCATE ALL psycopg sends
    after any rollback (a request whose view raised); 1.22 does."""
    monkeypatch.setattr(production, "pgbouncer_version", lambda: version)

    assert production.keeps_prepared_statements() is prepares
    served = production.environment(tmp_path, "postgres://app@127.0.0.1:6543/bench")
    assert served["DATABASE_PREPARED_STATEMENTS"] == str(prepares).lower()
