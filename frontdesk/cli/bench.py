"""``frontdesk bench ...``: each benchmark prints our figure, a baseline measured in the same
run, and their ratio; with ``--json`` the last line is one JSON object
(``ours``, ``baseline``, ``ratio`` and details)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Benchmarks: ours against a baseline measured in the same run.")


@app.command("producer")
def producer_bench(
    events: int = typer.Option(50_000, "--events", help="Events per round."),
    rounds: int = typer.Option(2, "--rounds", help="Alternating rounds; the best is kept."),
    as_json: bool = typer.Option(False, "--json", help="End with one JSON line."),
    profile: bool = typer.Option(False, "--profile", help="Print a cProfile of a typed run."),
) -> None:
    """Typed sends vs raw confluent-kafka producing the same pre-encoded bytes."""
    import json  # noqa: PLC0415 - benchmarks load lazily to keep `frontdesk --help` fast

    from frontdesk.benchmarks.producer import run_producer_bench  # noqa: PLC0415

    result = run_producer_bench(events, rounds=rounds, profile=profile)
    print(f"ours (typed send):     {result.ours:>12,.0f} events/s")
    print(f"baseline (raw bytes):  {result.baseline:>12,.0f} events/s")
    print(f"ratio:                 {result.ratio:>12.3f}")
    print(
        f"bytes per event:       {result.avro_bytes_per_event:>12.1f} Avro "
        f"vs {result.json_bytes_per_event:.1f} JSON"
    )
    if as_json:
        print(json.dumps(result.as_dict()))


@app.command("worker")
def worker_bench(
    events: int = typer.Option(50_000, "--events", help="Events pre-filled and consumed."),
    rounds: int = typer.Option(2, "--rounds", help="Alternating rounds; the best is kept."),
    as_json: bool = typer.Option(False, "--json", help="End with one JSON line."),
) -> None:
    """No-op handler under the worker runtime vs a raw consume + decode loop."""
    import json  # noqa: PLC0415 - benchmarks load lazily to keep `frontdesk --help` fast

    from frontdesk.benchmarks.worker import run_worker_bench  # noqa: PLC0415

    result = run_worker_bench(events, rounds=rounds)
    print(f"ours (worker runtime):      {result.ours:>12,.0f} events/s")
    print(f"baseline (consume+decode):  {result.baseline:>12,.0f} events/s")
    print(f"ratio:                      {result.ratio:>12.3f}")
    print(f"raw consume (no decode):    {result.raw_consume:>12,.0f} events/s")
    if as_json:
        print(json.dumps(result.as_dict()))


@app.command("latency")
def latency_bench(
    rate: int = typer.Option(1000, "--rate", help="Events per second, steady."),
    seconds: float = typer.Option(10.0, "--seconds", help="How long to send."),
    as_json: bool = typer.Option(False, "--json", help="End with one JSON line."),
) -> None:
    """End-to-end p50/p99 at a fixed rate: produce → handler vs produce → raw consume."""
    import json  # noqa: PLC0415

    from frontdesk.benchmarks.latency import run_latency_bench  # noqa: PLC0415

    result = run_latency_bench(rate, seconds)
    print(f"ours (worker):   p50 {result.ours_p50:8.2f} ms   p99 {result.ours:8.2f} ms")
    print(f"baseline (raw):  p50 {result.baseline_p50:8.2f} ms   p99 {result.baseline:8.2f} ms")
    print(f"ratio (p99 ours/baseline, lower is better): {result.ratio:.3f}")
    if as_json:
        print(json.dumps(result.as_dict()))


@app.command("concurrency")
def concurrency_bench(
    events: int = typer.Option(2000, "--events", help="Events pre-filled and handled."),
    keys: int = typer.Option(500, "--keys", help="Distinct properties (keys) among them."),
    rounds: int = typer.Option(2, "--rounds", help="Rounds of ours; the best is kept."),
    as_json: bool = typer.Option(False, "--json", help="End with one JSON line."),
) -> None:
    """A 5 ms I/O-bound handler: the worker's key concurrency vs one event at a time."""
    import json  # noqa: PLC0415

    from frontdesk.benchmarks.concurrency import run_concurrency_bench  # noqa: PLC0415

    result = run_concurrency_bench(events, keys, rounds=rounds)
    print(f"ours (worker, concurrency {result.concurrency}): {result.ours:>10,.0f} events/s")
    print(f"baseline (one at a time):          {result.baseline:>10,.0f} events/s")
    print(f"ratio:                             {result.ratio:>10.1f}")
    if as_json:
        print(json.dumps(result.as_dict()))
