"""``frontdesk bench ...``: each benchmark prints our figure, a baseline measured in the same
run, and their ratio; with ``--json`` the last line is one JSON object
(``ours``, ``baseline``, ``ratio`` and details)."""

from __future__ import annotations

from typing import Annotated

import typer

app = typer.Typer(help="Benchmarks: ours against a baseline measured in the same run.")

AsJson = Annotated[bool, typer.Option("--json", help="End with one JSON line.")]


@app.command("producer")
def producer_bench(
    events: int = typer.Option(50_000, "--events", help="Events per round."),
    rounds: int = typer.Option(2, "--rounds", help="Alternating rounds; the best is kept."),
    as_json: AsJson = False,
    profile: bool = typer.Option(False, "--profile", help="Print a cProfile of a typed run."),
) -> None:
    """Typed sends vs raw confluent-kafka producing the same pre-encoded bytes."""
    # Benchmarks load lazily to keep `frontdesk --help` fast.
    from frontdesk.benchmarks._common import print_result  # noqa: PLC0415
    from frontdesk.benchmarks.producer import run_producer_bench  # noqa: PLC0415

    result = run_producer_bench(events, rounds=rounds, profile=profile)
    lines = (
        f"ours (typed send):     {result.ours:>12,.0f} events/s",
        f"baseline (raw bytes):  {result.baseline:>12,.0f} events/s",
        f"ratio:                 {result.ratio:>12.3f}",
        f"bytes per event:       {result.avro_bytes_per_event:>12.1f} Avro "
        f"vs {result.json_bytes_per_event:.1f} JSON",
    )
    print_result(result, lines, as_json=as_json)


@app.command("decode")
def decode_bench(
    rounds: int = typer.Option(200, "--rounds", help="Decodes of each record; the best is kept."),
    as_json: AsJson = False,
) -> None:
    """Decode (or refusal) time of the worst 1 MB record of each kind vs a typical record."""
    from frontdesk.benchmarks._common import print_result  # noqa: PLC0415
    from frontdesk.benchmarks.decode import run_decode_bench  # noqa: PLC0415

    result = run_decode_bench(rounds)
    lines = [f"typical BookingCreated:   {result.typical_us:>10.1f} us"]
    for kind, micros in result.worst_us.items():
        lines.append(
            f"worst 1 MB {kind + ':':<13} {micros:>10.1f} us  ratio {result.ratios[kind]:.2f}"
        )
    print_result(result, lines, as_json=as_json)


@app.command("worker")
def worker_bench(
    events: int = typer.Option(50_000, "--events", help="Events pre-filled and consumed."),
    rounds: int = typer.Option(2, "--rounds", help="Alternating rounds; the best is kept."),
    as_json: AsJson = False,
) -> None:
    """No-op handler under the worker runtime vs a raw consume + decode loop."""
    from frontdesk.benchmarks._common import print_result  # noqa: PLC0415
    from frontdesk.benchmarks.worker import run_worker_bench  # noqa: PLC0415

    result = run_worker_bench(events, rounds=rounds)
    lines = (
        f"ours (worker runtime):      {result.ours:>12,.0f} events/s",
        f"baseline (consume+decode):  {result.baseline:>12,.0f} events/s",
        f"ratio:                      {result.ratio:>12.3f}",
        f"raw consume (no decode):    {result.raw_consume:>12,.0f} events/s",
    )
    print_result(result, lines, as_json=as_json)


@app.command("latency")
def latency_bench(
    rate: int = typer.Option(1000, "--rate", help="Events per second, steady."),
    seconds: float = typer.Option(10.0, "--seconds", help="How long to send."),
    as_json: AsJson = False,
) -> None:
    """End-to-end p50/p99 at a fixed rate: produce → handler vs produce → raw consume."""
    from frontdesk.benchmarks._common import print_result  # noqa: PLC0415
    from frontdesk.benchmarks.latency import run_latency_bench  # noqa: PLC0415

    result = run_latency_bench(rate, seconds)
    lines = (
        f"ours (worker):   p50 {result.ours_p50:8.2f} ms   p99 {result.ours:8.2f} ms",
        f"baseline (raw):  p50 {result.baseline_p50:8.2f} ms   p99 {result.baseline:8.2f} ms",
        f"ratio (p99 ours/baseline, lower is better): {result.ratio:.3f}",
    )
    print_result(result, lines, as_json=as_json)


@app.command("concurrency")
def concurrency_bench(
    events: int = typer.Option(2000, "--events", help="Events pre-filled and handled."),
    keys: int = typer.Option(500, "--keys", help="Distinct properties (keys) among them."),
    rounds: int = typer.Option(2, "--rounds", help="Rounds of ours; the best is kept."),
    as_json: AsJson = False,
) -> None:
    """A 5 ms I/O-bound handler: the worker's key concurrency vs one event at a time."""
    from frontdesk.benchmarks._common import print_result  # noqa: PLC0415
    from frontdesk.benchmarks.concurrency import run_concurrency_bench  # noqa: PLC0415

    result = run_concurrency_bench(events, keys, rounds=rounds)
    lines = (
        f"ours (worker, concurrency {result.concurrency}): {result.ours:>10,.0f} events/s",
        f"baseline (one at a time):          {result.baseline:>10,.0f} events/s",
        f"ratio:                             {result.ratio:>10.1f}",
    )
    print_result(result, lines, as_json=as_json)
