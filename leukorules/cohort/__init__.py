"""Cohort runs: evaluate every patient of a file, on the python engine or inside DuckDB.

Stages: `readers` (a JSON Lines, CSV or Parquet file -> numbered raw records in bounded batches)
-> an engine -> `writers` (results and errors files) and `summary` (counts for people).

- python engine (`pyengine`, with `decode`): the compiled evaluator of `leukorules.engine` in a
  pool of worker processes, one batch each at a time, results in cohort order.
- duckdb engine (`sql` + `duckdb`): the policy compiled to standard SQL (`sql`: conditions,
  `after`/`overrides`, derived facts as ordered CTE layers, missing facts of undetermined rules)
  run by DuckDB together with the row validation, also in SQL. Only `duckdb` knows DuckDB.

Both engines apply the same row rules and must agree row for row (the differential tests hold
them to it). The rules a cohort must follow:

- one patient per record; the id is in the column (JSON key) `id`, or the one `--id-column`
  names: text or a whole number, never empty; it is written as text in the results;
- every other column (key) is an input fact of the policy, named exactly as the fact; a column
  that is not (or a derived fact) stops the run before it starts (CSV, Parquet) or rejects the
  record (JSON Lines), unless `--ignore-extra` is given;
- values follow `leukorules.engine.facts` (strict types, enum values, declared ranges); an empty
  or null value is unknown. CSV cells are text read by the fact's type (see
  `leukorules.cohort.decode`); Parquet column types must fit the fact (checked up front);
- a record that breaks a rule is written to the errors file with its row number (the N-th record
  of the file, counting from 1, blank lines not counted), its id when known, the diagnostic
  codes and the reasons; the run goes on, and the summary counts it.
"""
