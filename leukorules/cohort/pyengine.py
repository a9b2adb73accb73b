"""The python engine: the compiled evaluator over a cohort, on every core.

Input: `RawBatch`es from the reader. Output, per batch and in cohort order: the encoded results
(JSON Lines text or an Arrow record batch), the rejected records, and the batch's `Counts`.
Work is handed out one batch at a time to a pool of worker processes, at most two batches per
worker in flight, so memory stays flat however long the cohort is; each worker compiles the
policy once, when it starts.

Per patient this uses the compiled core (`CompiledPolicy.run`): the outcome of every rule, the
derived values, and for undetermined rules the unknown facts that would decide them, exactly what
`evaluate` reports, without building the full traceable result (tests hold the two equal).
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from leukorules import model as m
from leukorules.cohort.decode import Decoder
from leukorules.cohort.layout import Layout
from leukorules.cohort.readers import Problem, RawBatch
from leukorules.cohort.summary import Counts
from leukorules.cohort.writers import OutputFormat, ResultRow, encode_result, rows_to_arrow
from leukorules.engine.facts import ValidatedFacts


@dataclass(frozen=True)
class WorkerConfig:
    policy: m.Policy
    layout: Layout
    output: OutputFormat


@dataclass
class BatchOutput:
    results: Any  # str (JSON Lines) or a pyarrow RecordBatch
    problems: list[Problem]
    counts: Counts


class Worker:
    def __init__(self, config: WorkerConfig) -> None:
        from leukorules.engine.compile import compile_policy

        self.config = config
        self.policy = config.policy
        self.compiled = compile_policy(config.policy)
        self.decoder = Decoder(config.layout, self.compiled.validator)
        self.rule_ids = [r.id for r in self.policy.rules]
        self.derived_names = tuple(f.name for f in self.policy.derived_facts)
        self.schema: Any = None
        if config.output == "parquet":
            from leukorules.cohort.schema import results_schema

            self.schema = results_schema(self.policy)

    def evaluate(self, values: ValidatedFacts) -> tuple[list[str], list[str], Any]:
        run = self.compiled.run(values)
        fired: list[str] = []
        undetermined: list[int] = []
        for i, truth in enumerate(run.effective):
            if truth is True:
                fired.append(self.rule_ids[i])
            elif truth is None:
                undetermined.append(i)
        return fired, [self.rule_ids[i] for i in undetermined], (run, undetermined)

    def process(self, batch: RawBatch) -> BatchOutput:
        decoded = self.decoder.decode(batch)
        counts = Counts(read=batch.records, rejected=len(decoded.problems))
        for problem in decoded.problems:
            for code in problem.code.split(","):
                counts.rejected_by_code[code] += 1
        rows: list[ResultRow] = []
        for number, record_id, values in decoded.records:
            fired, undetermined, (run, open_rules) = self.evaluate(values)
            counts.fired.update(fired)
            counts.undetermined.update(undetermined)
            if open_rules:
                facts: set[str] = set()
                for i in open_rules:
                    missing = run.missing(i)[0]
                    rule_id = self.rule_ids[i]
                    for name in missing:
                        counts.missing[(rule_id, name)] += 1
                    facts |= missing
                counts.missing_patients.update(facts)
            rows.append((number, record_id, fired, undetermined, dict(run.derived)))
        counts.evaluated = len(rows)
        results: Any
        if self.config.output == "jsonl":
            results = "".join(encode_result(r, self.derived_names) + "\n" for r in rows)
        else:
            results = rows_to_arrow(rows, self.policy, self.schema) if rows else None
        return BatchOutput(results, decoded.problems, counts)


# --- the worker processes --------------------------------------------------------------------

_WORKER: list[Worker] = []


def _start_worker(config: WorkerConfig) -> None:
    # Ctrl-C reaches every process of the terminal's group: the parent stops the run and the
    # pool, and a worker printing its own KeyboardInterrupt traceback would only add noise.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _WORKER.clear()
    _WORKER.append(Worker(config))


def _process(batch: RawBatch) -> BatchOutput:
    return _WORKER[0].process(batch)


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


def run_batches(
    config: WorkerConfig,
    batches: Iterator[RawBatch],
    jobs: int,
    on_output: Callable[[BatchOutput], None],
) -> None:
    """Evaluate every batch, calling `on_output` in cohort order. jobs=1 runs in this process."""
    if jobs <= 1:
        worker = Worker(config)
        for batch in batches:
            on_output(worker.process(batch))
        return
    # forkserver: workers start from a clean process, not a fork of one running Arrow threads.
    method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method)
    window = 2 * jobs
    with context.Pool(jobs, initializer=_start_worker, initargs=(config,)) as pool:
        pending: deque[Any] = deque()
        for batch in batches:
            pending.append(pool.apply_async(_process, (batch,)))
            while len(pending) >= window:
                on_output(pending.popleft().get())
        while pending:
            on_output(pending.popleft().get())
