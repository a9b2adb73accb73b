"""The version of leukorules, in a module of its own so that any stage can read it without
importing the public API (which imports every stage)."""

__version__ = "0.1.0"
