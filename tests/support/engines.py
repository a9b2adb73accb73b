"""Warming up pyarrow and DuckDB before a test's watchdog caps the address space.

Both reserve large ranges of address space the first time they allocate (their allocators'
arenas, DuckDB's buffer manager); inside `support.watchdog`'s cap that first reservation can
fail as `malloc of size 12032 failed`, which would be the test's own failure, not the code's.
`warm_up_engines()` makes those reservations once per process, before any cap is set.
"""

from __future__ import annotations

import functools


@functools.cache
def warm_up_engines() -> None:
    import duckdb
    import pyarrow as pa  # type: ignore[import-untyped]
    import pyarrow.parquet as pq  # type: ignore[import-untyped]

    sink = pa.BufferOutputStream()
    pq.write_table(pa.table({"x": list(range(1000)), "y": [str(i) for i in range(1000)]}), sink)
    pq.read_table(pa.BufferReader(sink.getvalue())).to_pylist()
    connection = duckdb.connect(":memory:")
    connection.execute("SET memory_limit = '1GB'")
    connection.sql("SELECT range AS x FROM range(100000)").to_arrow_table()
    connection.close()
