"""The load generator of the load benchmarks: locust in library mode, run as its own process.

    python -m bench.load_client PLAN.json  ->  prints one JSON line of figures

A separate process because locust patches the standard library for gevent (the bench process
keeps its ordinary sockets and database connections). The plan says which scenario (`board`:
public board pages and feed; `submit`: public submissions, each with its own pre-issued SMS code
and client address; `bare`: the bare insert view with the same bodies), the base URL, the number
of clients, the seconds measured after all clients run, and the think time of a board reader.
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()

import json  # noqa: E402
import random  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from typing import Any  # noqa: E402

import gevent  # noqa: E402
from locust import FastHttpUser, User, between, constant, events, task  # noqa: E402
from locust.env import Environment  # noqa: E402

# Each gunicorn worker's first requests load templates and catalogues (about 1.5 s): not measured.
WARM_UP_S = 5.0


def _users(plan: dict[str, Any]) -> list[type[User]]:
    bodies: list[dict[str, Any]] = plan.get("bodies", [])
    rng = random.Random(15)
    think = plan.get("think_s", 0.0)

    class Board(FastHttpUser):
        host = plan["base"]
        wait_time = between(think / 2, think * 1.5) if think else constant(0)

        @task(3)
        def board_page(self) -> None:
            self.client.get(rng.choice(plan["board_paths"]), name="board")

        @task(2)
        def feed(self) -> None:
            self.client.get(rng.choice(plan["feed_paths"]), name="feed")

    class Submit(FastHttpUser):
        host = plan["base"]
        wait_time = constant(0)
        path = plan.get("path", "")

        @task
        def submit(self) -> None:
            if not bodies:
                self.environment.runner.quit()  # the plan's bodies are its bound on count
                return
            body = bodies.pop()
            address = body.pop("_address")
            with self.client.post(
                self.path,
                data=json.dumps(body, ensure_ascii=False),
                headers={"Content-Type": "application/json", "X-Forwarded-For": address},
                name=plan["scenario"],
                catch_response=True,
            ) as response:
                if response.status_code != 201:
                    response.failure(f"{response.status_code} {response.text[:200]}")

    return [Board] if plan["scenario"] == "board" else [Submit]


def run(plan: dict[str, Any]) -> dict[str, Any]:
    env = Environment(user_classes=_users(plan), events=events)
    runner = env.create_local_runner()
    failures: Counter[str] = Counter()

    @events.request.add_listener
    def _failed(exception: Any = None, name: str = "", **_: Any) -> None:
        if exception is not None:
            failures[f"{name}: {str(exception)[:160]}"] += 1

    runner.start(plan["users"], spawn_rate=max(plan["users"], 1))
    gevent.sleep(WARM_UP_S)
    env.stats.reset_all()
    failures.clear()
    started = time.monotonic()
    while time.monotonic() - started < plan["seconds"] and runner.state not in ("stopped", "stopping"):
        gevent.sleep(0.2)
    elapsed = time.monotonic() - started
    total = env.stats.total
    runner.quit()
    return {
        "requests": total.num_requests,
        "failures": total.num_failures,
        "seconds": round(elapsed, 2),
        "rps": round(total.num_requests / elapsed, 2) if elapsed else 0.0,
        "p50_ms": total.get_response_time_percentile(0.5),
        "p95_ms": total.get_response_time_percentile(0.95),
        "p99_ms": total.get_response_time_percentile(0.99),
        "max_ms": round(total.max_response_time or 0, 1),
        "avg_bytes": round(total.avg_content_length, 1),
        "by_name": {
            name: {
                "requests": s.num_requests,
                "p99_ms": s.get_response_time_percentile(0.99),
                "avg_bytes": round(s.avg_content_length, 1),
            }
            for (name, _method), s in env.stats.entries.items()
        },
        "failure_reasons": dict(failures.most_common(5)),
    }


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as f:
        result = run(json.load(f))
    print(json.dumps(result, ensure_ascii=False))
