"""Bit masks of rules, as the duckdb engine's query returns them, -> lists of rule ids and counts.

Input: the policy's rule ids (in the policy's order) and record batches holding the "flags"
shape's mask columns (`leukorules.cohort.query.FIRED_MASK`, `UNDETERMINED_MASK`: bit i of mask k
set when rule 63k + i is in the list; `leukorules.cohort.sql.MASK_BITS`). Output: per batch, the
lists as an Arrow list column of rule ids (in the policy's order, as the python engine lists
them), and how many of the evaluated rows hold each rule.

Integers are what SQL makes cheaply; the lists are built here at once for a whole batch with
array operations (a row's set bits, in order, are its list), never row by row in Python.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, NamedTuple

from leukorules.cohort.sql import MASK_BITS


class RuleMasks:
    """The masks of one kind (fired or undetermined rules) of a batch, read as bits.

    Each row's masks are unpacked to a row of 64 bits per mask (bit i of mask k at 64k + i, bit
    63 never set); the set bits' places, row by row, are the list's elements."""

    def __init__(self, rule_ids: Any, prefix: str) -> None:
        """`rule_ids`: the policy's rule ids, in its order, as an Arrow string array (the
        dictionary of the lists, `leukorules.cohort.schema.rule_ids`); `prefix`: the name of
        the mask columns, numbered from 0."""
        import numpy as np

        self.names = rule_ids
        self.rule_ids = tuple(rule_ids.to_pylist())
        self.prefix = prefix
        self.words = -(-len(self.rule_ids) // MASK_BITS)
        self.width = 64 * self.words
        # Each rule's place in a row of bits, and the rule at each place (places 63, 127, ...
        # never hold one).
        self.place_of = np.array(
            [64 * (rule // MASK_BITS) + rule % MASK_BITS for rule in range(len(self.rule_ids))],
            dtype=np.intp,
        )
        self.rule_at = np.zeros(self.width, dtype=np.int32)
        self.rule_at[self.place_of] = np.arange(len(self.rule_ids), dtype=np.int32)

    def read(self, batch: Any, evaluated: Any = None) -> tuple[Any, Counter[str]]:
        """The batch's lists, as an Arrow list array of dictionary-encoded strings
        (`leukorules.cohort.schema.rule_id_type`: no string is copied), and how many rows hold
        each rule (rules no row holds left out), counting only the rows `evaluated` marks true
        (a numpy boolean array; None: every row)."""
        bits = self.unpack(batch)
        return self.lists(bits), self.counts(bits, evaluated)

    def unpack(self, batch: Any) -> MaskBits:
        """The batch's masks as a matrix of bits, a row of `width` per record."""
        import numpy as np
        import pyarrow.compute as pc  # type: ignore[import-untyped]

        rows = batch.num_rows
        masks = np.empty((rows, self.words), dtype="<i8")
        for number in range(self.words):
            column = pc.fill_null(batch.column(f"{self.prefix}{number}"), 0)
            masks[:, number] = column.to_numpy(zero_copy_only=False)
        unpacked = np.unpackbits(masks.view(np.uint8), axis=1, bitorder="little")
        bits = unpacked.view(bool).reshape(rows, self.width)
        places = np.flatnonzero(bits).astype(np.int32)  # row by row, rules in order
        if self.width & (self.width - 1) == 0:
            places &= self.width - 1
        else:
            places %= self.width
        return MaskBits(masks, bits, places)

    def column(self, bits: MaskBits, rule: int) -> Any:
        """Whether each record holds rule number `rule` (in the policy's order): a numpy
        boolean array."""
        return bits.bits[:, self.place_of[rule]]

    def lists(self, bits: MaskBits) -> Any:
        """Each record's rules, in the policy's order, as an Arrow list array of
        dictionary-encoded rule ids."""
        import numpy as np
        import pyarrow as pa

        rows = len(bits.masks)
        offsets = np.zeros(rows + 1, dtype=np.int32)
        np.cumsum(np.bitwise_count(bits.masks).sum(axis=1, dtype=np.int32), out=offsets[1:])
        rules = bits.places if self.words == 1 else self.rule_at[bits.places]
        values = pa.DictionaryArray.from_arrays(arrow_array(rules), self.names)
        return pa.ListArray.from_arrays(arrow_array(offsets), values)

    def counts(self, bits: MaskBits, evaluated: Any = None) -> Counter[str]:
        """How many records hold each rule (rules none holds left out), counting only those
        `evaluated` marks true (a numpy boolean array; None: every record)."""
        import numpy as np

        if evaluated is None:
            held = np.bincount(bits.places, minlength=self.width)
        else:
            held = np.count_nonzero(bits.bits[evaluated], axis=0)
        found: Counter[str] = Counter()
        for rule, count in zip(self.rule_ids, held[self.place_of].tolist(), strict=True):
            if count:
                found[rule] = count
        return found


class MaskBits(NamedTuple):
    """A batch's masks (`masks`: records x words), their bits (`bits`: records x width), and
    the places of the set bits within their rows, row by row (`places`)."""

    masks: Any
    bits: Any
    places: Any


def arrow_array(values: Any) -> Any:
    """A one-dimensional numpy array of numbers as an Arrow array of its type, sharing its memory.

    `pyarrow.array(values)` would do the same, but it asks whether `values` is a masked array,
    and the first question imports `numpy.ma`: about 55 ms of every run's start-up."""
    import numpy as np
    import pyarrow as pa

    values = np.ascontiguousarray(values)
    arrow_type = pa.from_numpy_dtype(values.dtype)
    return pa.Array.from_buffers(arrow_type, len(values), [None, pa.py_buffer(values)])
