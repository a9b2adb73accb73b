"""Cohort runs: evaluate every patient of a file, on the python engine, in DuckDB or on Spark.

Takes: a checked `model.Policy` (compiled by `leukorules.engine` for the python engine, compiled
to SQL here for DuckDB and Spark) and a cohort file. Gives: a results file (one
`leukorules.result` record per patient), an errors file (the rows refused, with their
diagnostics) and a `summary`.
Must never import: `leukorules.syntax`, `leukorules.check`, `leukorules.report`,
`leukorules.audit`, `leukorules.cli`, `leukorules.authoring`, `leukorules.fhir`.

Stages: `readers` (a JSON Lines, CSV or Parquet file -> numbered raw records in bounded batches;
`lines` bounds each record's size) and `layout` (the file's columns against the policy's facts,
checked up front; `preflight` does the same from a JSON Lines file's first records) -> an engine
-> `writers` (results and errors files) and `summary` (counts for people); `runner` runs them,
and `outputs` checks that no output is an input or another output and replaces each output
only when the run completes.

- python engine (`pyengine`, with `decode`): the compiled evaluator of `leukorules.engine` in a
  pool of worker processes, one batch each at a time, results in cohort order.
- duckdb engine: one SQL query decodes, checks and evaluates every record. The SQL is written
  once for every SQL engine: `sql` compiles the policy (conditions, `after`/`overrides`, derived
  facts as ordered CTE layers, missing facts of undetermined rules), `decode_sql` decodes raw
  values into typed columns with the reasons a row is rejected, and `query` assembles the whole
  query (pure: policy and cohort layout in, SQL text out; `render_sql` prints it, laid out by
  `sqltext`). `dialect` is standard SQL; `duckdb` is DuckDB's spelling of what the standard
  leaves open, and its connections; `duckdb_read` decides how DuckDB reads the cohort file
  (itself, under a literal name, or through the shared reader), `duckdb_lines` gives JSON Lines
  records DuckDB may have read otherwise than Python a strict second look, and `duckdb_stream`
  runs the query and streams results back in cohort order. Only the `duckdb*` modules know
  DuckDB.
- spark engine: the same query in `spark` (Spark SQL's spelling), run by `spark_run` on a local
  session or a cluster: the executors read and number the records and write the results with
  the other engines' own code (`spark_steps`); the driver receives only the counts, and streams
  the part files into the run's temporary output files (or renames a partitioned results folder
  into place). Only `spark`, `spark_run` and `spark_steps` know Spark; `docs/scale.md` tells how
  to run it on a cluster.

The engines apply the same row rules and must agree row for row (the differential tests hold
them to it), and report a rejected row with the `ROW_*` messages of `leukorules.messages` (the
two SQL engines in the same words). The rules a cohort must follow:

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
