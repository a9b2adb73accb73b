"""The rules' columns of the duckdb engine's query -> lists of rule ids and counts.

Input: the policy's rule ids (in the policy's order) and record batches holding the "flags"
shape's rule columns (`leukorules.cohort.query.RULE_COLUMN`: column i is rule i's fired column,
TRUE when it fired, FALSE when it did not, NULL when it is undetermined). Output: per batch, the
fired and the undetermined rules as matrices of bits, and from them the lists as Arrow list
columns of rule ids (in the policy's order, as the python engine lists them) and how many of the
evaluated records hold each rule.

The columns are the query's own booleans, which DuckDB hands over as Arrow bitmaps (a value and a
validity bit per record); the lists are built here at once for a whole batch with array
operations (a record's set bits, in order, are its list), never record by record in Python.
Packing the booleans into integers in SQL instead cost DuckDB more than unpacking them costs
here.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, NamedTuple


class RuleBits(NamedTuple):
    """A batch's rules as bits, a row per rule (rules x records): `fired` where the rule fired,
    `undetermined` where its outcome is unknown."""

    fired: Any
    undetermined: Any


class RuleColumns:
    """Reads the rule columns of the query's batches."""

    def __init__(self, rule_ids: Any, prefix: str) -> None:
        """`rule_ids`: the policy's rule ids, in its order, as an Arrow string array (the
        dictionary of the lists, `leukorules.cohort.schema.rule_ids`); `prefix`: the name of
        the rule columns, numbered from 0."""
        self.names = rule_ids
        self.rule_ids = tuple(rule_ids.to_pylist())
        self.prefix = prefix

    def unpack(self, batch: Any) -> RuleBits:
        """The batch's rules as bits."""
        import numpy as np
        import pyarrow as pa  # type: ignore[import-untyped]

        shape = (len(self.rule_ids), batch.num_rows)
        fired = np.empty(shape, dtype=bool)
        undetermined = np.empty(shape, dtype=bool)
        if not batch.num_rows:  # an empty array may have no buffers at all
            return RuleBits(fired, undetermined)
        for number in range(len(self.rule_ids)):
            column = batch.column(f"{self.prefix}{number}")
            if column.type != pa.bool_():  # a column DuckDB typed otherwise (all NULL)
                column = column.cast(pa.bool_())
            valid, values = column.buffers()
            fired[number] = bitmap(values, column.offset, len(column))
            if valid is None:
                undetermined[number] = False
            else:
                known = bitmap(valid, column.offset, len(column))
                fired[number] &= known
                np.logical_not(known, out=undetermined[number])
        return RuleBits(fired, undetermined)

    def lists(self, bits: Any) -> Any:
        """Each record's rules (`bits`: rules x records), in the policy's order, as an Arrow
        list array of dictionary-encoded rule ids (`leukorules.cohort.schema.rule_id_type`: no
        string is copied)."""
        import numpy as np
        import pyarrow as pa

        rules, records = bits.shape
        offsets = np.zeros(records + 1, dtype=np.int32)
        np.cumsum(np.count_nonzero(bits, axis=0), out=offsets[1:])
        # The set bits record by record (`bits.T` in C order), rules in order within each.
        places = np.flatnonzero(bits.T).astype(np.int32)
        if rules:
            places %= rules
        values = pa.DictionaryArray.from_arrays(arrow_array(places), self.names)
        return pa.ListArray.from_arrays(arrow_array(offsets), values)

    def counts(self, bits: Any, evaluated: Any = None) -> Counter[str]:
        """How many records hold each rule (rules none holds left out), counting only those
        `evaluated` marks true (a numpy boolean array; None: every record)."""
        import numpy as np

        held = np.count_nonzero(bits if evaluated is None else bits & evaluated, axis=1)
        found: Counter[str] = Counter()
        for rule, count in zip(self.rule_ids, held.tolist(), strict=True):
            if count:
                found[rule] = count
        return found


def bitmap(buffer: Any, offset: int, length: int) -> Any:
    """Bits `offset` to `offset + length` of an Arrow bitmap (least significant bit first) as a
    numpy boolean array."""
    import numpy as np

    raw = np.frombuffer(buffer, dtype=np.uint8)
    return np.unpackbits(raw, count=offset + length, bitorder="little")[offset:].view(bool)


def arrow_array(values: Any) -> Any:
    """A one-dimensional numpy array of numbers as an Arrow array of its type, sharing its memory.

    `pyarrow.array(values)` would do the same, but it asks whether `values` is a masked array,
    and the first question imports `numpy.ma`: about 55 ms of every run's start-up."""
    import numpy as np
    import pyarrow as pa

    values = np.ascontiguousarray(values)
    arrow_type = pa.from_numpy_dtype(values.dtype)
    return pa.Array.from_buffers(arrow_type, len(values), [None, pa.py_buffer(values)])
