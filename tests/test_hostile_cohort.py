"""Hostile `batch` runs: outputs that alias inputs or each other, paths DuckDB would glob, and
option values that are empty or hold control characters.

Outputs are compared as files (device and inode), not as names, before anything is opened for
writing: a refused run leaves every file as it was, byte for byte, and creates nothing. Paths
reach DuckDB literally: a file named `c[1].parquet` is read, never `c1.parquet`. (Interrupted
runs are `test_hostile_cohort_interrupt.py`; damaged and oversized records are
`test_hostile_cohort_rows.py`; fuzzing is `test_hostile_cohort_fuzz.py`.)
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.cli import leukorules
from support.engines import warm_up_engines
from support.policies import adults_with_pml_policy
from support.watchdog import watchdog

from leukorules.cohort.outputs import NamedFile, OutputFiles, file_identity
from leukorules.cohort.readers import CohortError
from leukorules.cohort.runner import default_errors_path

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")
pytest.importorskip("duckdb")

POLICY = adults_with_pml_policy('policy hostile.cohort { title "Hostile cohort" version "1.0" }')
ENGINES = ["python", "duckdb"]


@pytest.fixture(autouse=True)
def _no_hang() -> Iterator[None]:
    warm_up_engines()
    with watchdog(60):
        yield


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder holding the policy (p.rules), made the current folder: paths below are relative,
    as a user types them."""
    (tmp_path / "p.rules").write_text(POLICY, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def parquet(path: Path, ids: list[str], ages: list[int]) -> Path:
    table = pa.table({"id": ids, "diagnosis": ["pml"] * len(ids), "age": ages})
    pq.write_table(table, path)
    return path


def batch(*args: str, engine: str = "python") -> tuple[int, str]:
    result = leukorules("batch", *args, "--policy", "p.rules", "--engine", engine, "--jobs", "1")
    return result.exit_code, result.output


def snapshot(folder: Path) -> dict[str, bytes | str]:
    """Every entry of `folder`: a file's bytes, a link's target, `<folder>` for a folder."""
    found: dict[str, bytes | str] = {}
    for path in sorted(folder.rglob("*")):
        name = str(path.relative_to(folder))
        if path.is_symlink():
            found[name] = "-> " + os.readlink(path)
        elif path.is_dir():
            found[name] = "<folder>"
        else:
            found[name] = path.read_bytes()
    return found


def ids_in(path: Path) -> list[str]:
    return [json.loads(line)["id"] for line in path.read_text(encoding="utf-8").splitlines()]


# --- outputs that are inputs, or each other -----------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_out_as_a_hard_link_to_the_cohort_is_refused_and_the_cohort_kept(
    folder: Path, engine: str
) -> None:
    """The lead's reproduction: `--out hl.parquet`, a hard link to the cohort, truncated it."""
    parquet(folder / "cohort1.parquet", ["a", "b"], [30, 40])
    os.link(folder / "cohort1.parquet", folder / "hl.parquet")
    before = snapshot(folder)
    status, output = batch("cohort1.parquet", "--out", "hl.parquet", engine=engine)
    assert status == 1
    assert (
        "--out hl.parquet is the same file as the cohort cohort1.parquet "
        "(a hard link to it); nothing was written" in output
    )
    assert "Traceback" not in output
    assert snapshot(folder) == before  # nothing written, nothing created (no errors file)


@pytest.mark.parametrize(
    ("option", "make"),
    [
        ("--out", lambda f: os.link(f / "c.parquet", f / "x.parquet")),
        ("--out", lambda f: (f / "x.parquet").symlink_to("c.parquet")),
        ("--out", lambda f: (f / "x.parquet").symlink_to(f / "c.parquet")),
        ("--errors", lambda f: os.link(f / "c.parquet", f / "x.parquet")),
        ("--summary-json", lambda f: os.link(f / "c.parquet", f / "x.parquet")),
        ("--summary-json", lambda f: (f / "x.parquet").symlink_to("c.parquet")),
    ],
    ids=[
        "out-hard",
        "out-relative-symlink",
        "out-absolute-symlink",
        "errors-hard",
        "summary-hard",
        "summary-symlink",
    ],
)
def test_every_output_linked_to_the_cohort_is_refused(
    folder: Path, option: str, make: object
) -> None:
    parquet(folder / "c.parquet", ["a"], [30])
    make(folder)  # type: ignore[operator]
    before = snapshot(folder)
    args = ["c.parquet", "--out", "r.jsonl", option, "x.parquet"]
    if option == "--out":
        args = ["c.parquet", "--out", "x.parquet"]
    status, output = batch(*args)
    assert status == 1, output
    assert f"{option} x.parquet is the same file as the cohort c.parquet" in output
    assert snapshot(folder) == before


@pytest.mark.parametrize("option", ["--out", "--errors", "--summary-json"])
def test_an_output_that_is_a_policy_file_is_refused(folder: Path, option: str) -> None:
    (folder / "c.jsonl").write_text('{"id": "a", "age": 30}\n', encoding="utf-8")
    os.link(folder / "p.rules", folder / "p.jsonl")  # a name an output could take
    before = snapshot(folder)
    target = "p.jsonl" if option == "--out" else "p.rules"
    args = ["c.jsonl", "--out", target] if option == "--out" else ["c.jsonl", "--out", "r.jsonl"]
    if option != "--out":
        args += [option, target]
    status, output = batch(*args)
    assert status == 1
    assert f"{option} {target} is the same file as the policy file p.rules" in output
    assert snapshot(folder) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--out", "r.jsonl", "--errors", "x/../r.jsonl"],
            "--out r.jsonl and --errors x/../r.jsonl are the same file",
        ),
        (
            ["--out", "r.jsonl", "--summary-json", "./r.jsonl"],
            "--out r.jsonl and --summary-json r.jsonl are the same file",
        ),
        (
            ["--out", "r.jsonl", "--summary-json", "r.errors.jsonl"],
            "the errors file r.errors.jsonl and --summary-json r.errors.jsonl are the same file",
        ),
        (
            ["--out", "new/r.jsonl", "--errors", "new/../new/r.jsonl"],
            "--out new/r.jsonl and --errors new/../new/r.jsonl are the same file",
        ),
    ],
    ids=["out-errors-dotdot", "out-summary-dot", "default-errors-summary", "not-yet-existing"],
)
def test_outputs_that_are_one_file_are_refused(folder: Path, args: list[str], message: str) -> None:
    """The same file given twice by different relative paths, existing or not yet."""
    (folder / "c.jsonl").write_text('{"id": "a", "age": 30}\n', encoding="utf-8")
    (folder / "x").mkdir()
    before = snapshot(folder)
    status, output = batch("c.jsonl", *args)
    assert status == 1
    assert message in output
    assert snapshot(folder) == before  # not even the folder `new` is created


def test_an_existing_output_hard_linked_to_another_output_is_refused(folder: Path) -> None:
    (folder / "c.jsonl").write_text('{"id": "a", "age": 30}\n', encoding="utf-8")
    (folder / "r.jsonl").write_text("old results\n", encoding="utf-8")
    os.link(folder / "r.jsonl", folder / "s.json")
    status, output = batch("c.jsonl", "--out", "r.jsonl", "--summary-json", "s.json")
    assert status == 1
    assert "--out r.jsonl and --summary-json s.json are the same file (a hard link to it)" in output
    assert (folder / "r.jsonl").read_text(encoding="utf-8") == "old results\n"


def test_runs_writing_jsonl_and_parquet_side_by_side_keep_their_own_errors_files(
    folder: Path,
) -> None:
    (folder / "c.jsonl").write_text(
        '{"id": "a", "age": 30}\n{"id": "b", "age": 300}\n', encoding="utf-8"
    )
    names = {
        out: default_errors_path(Path(out))
        for out in ("r.jsonl", "r.parquet", "r.ndjson", "r.json", "r.pq", "R.JSONL")
    }
    assert len(set(names.values())) == len(names)  # no two results files share an errors file
    assert names["r.jsonl"] == Path("r.errors.jsonl")  # as before
    assert names["r.parquet"] == Path("r.parquet-errors.jsonl")
    for out in ("r.jsonl", "r.parquet"):
        assert batch("c.jsonl", "--out", out)[0] == 0
    for out in ("r.jsonl", "r.parquet"):
        rejected = [json.loads(line) for line in names[out].read_text().splitlines()]
        assert [r["row"] for r in rejected] == [2]


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda f: (f / "r.jsonl").mkdir(), "--out r.jsonl is a folder"),
        (lambda f: os.mkfifo(f / "r.jsonl"), "--out r.jsonl is a FIFO (named pipe)"),
        (lambda f: (f / "r.jsonl").symlink_to("/dev/null"), "--out r.jsonl is a device"),
    ],
    ids=["folder", "fifo", "device"],
)
def test_an_output_that_is_not_a_regular_file_is_refused_by_kind(
    folder: Path, make: object, words: str
) -> None:
    (folder / "c.jsonl").write_text('{"id": "a", "age": 30}\n', encoding="utf-8")
    make(folder)  # type: ignore[operator]
    status, output = batch("c.jsonl", "--out", "r.jsonl")
    assert status == 1
    assert words in output
    assert not (folder / "r.errors.jsonl").exists()


def test_the_errors_file_as_dev_null_is_refused(folder: Path) -> None:
    """Atomic replacement would replace the device node itself: refused by kind."""
    (folder / "c.jsonl").write_text('{"id": "a", "age": 30}\n', encoding="utf-8")
    status, output = batch("c.jsonl", "--out", "r.jsonl", "--errors", "/dev/null")
    assert status == 1
    assert "--errors /dev/null is a device" in output
    assert not (folder / "r.jsonl").exists()


def test_an_output_where_nothing_can_be_written_is_refused_before_the_run(folder: Path) -> None:
    """/proc refuses new files, even to root."""
    (folder / "c.jsonl").write_text('{"id": "a", "age": 30}\n', encoding="utf-8")
    status, output = batch("c.jsonl", "--out", "/proc/r.jsonl")
    assert status == 1
    assert "cannot write --out /proc/r.jsonl" in output
    assert "rows:" not in output  # refused before any record was read


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write a read-only file")
def test_a_read_only_output_is_refused(folder: Path) -> None:
    (folder / "c.jsonl").write_text('{"id": "a", "age": 30}\n', encoding="utf-8")
    (folder / "r.jsonl").write_text("kept\n", encoding="utf-8")
    (folder / "r.jsonl").chmod(0o444)
    status, output = batch("c.jsonl", "--out", "r.jsonl")
    assert status == 1
    assert "--out r.jsonl is read-only" in output
    assert (folder / "r.jsonl").read_text(encoding="utf-8") == "kept\n"


def test_an_output_in_a_folder_that_does_not_exist_is_created_with_it(folder: Path) -> None:
    (folder / "c.jsonl").write_text('{"id": "a", "age": 30}\n', encoding="utf-8")
    status, output = batch("c.jsonl", "--out", "new/deeper/r.jsonl", "--summary-json", "s/s.json")
    assert status == 0, output
    assert ids_in(folder / "new" / "deeper" / "r.jsonl") == ["a"]
    assert (folder / "new" / "deeper" / "r.errors.jsonl").read_text() == ""
    assert json.loads((folder / "s" / "s.json").read_text())["rows"]["evaluated"] == 1


def test_a_symbolic_link_as_output_is_written_through_and_kept(folder: Path) -> None:
    (folder / "c.jsonl").write_text('{"id": "a", "age": 30}\n', encoding="utf-8")
    (folder / "elsewhere").mkdir()
    (folder / "elsewhere" / "real.jsonl").write_text("old\n", encoding="utf-8")
    (folder / "r.jsonl").symlink_to("elsewhere/real.jsonl")
    (folder / "dangling.jsonl").symlink_to("elsewhere/new.jsonl")
    assert batch("c.jsonl", "--out", "r.jsonl")[0] == 0
    assert (folder / "r.jsonl").is_symlink()
    assert ids_in(folder / "elsewhere" / "real.jsonl") == ["a"]
    assert batch("c.jsonl", "--out", "dangling.jsonl", "--errors", "e.jsonl")[0] == 0
    assert ids_in(folder / "elsewhere" / "new.jsonl") == ["a"]


def test_a_hard_link_to_an_old_output_keeps_the_old_content(folder: Path) -> None:
    """The new results file is a new file renamed into place: another name of the old one (a
    backup made with `ln`) still holds the old results."""
    (folder / "c.jsonl").write_text('{"id": "a", "age": 30}\n', encoding="utf-8")
    (folder / "r.jsonl").write_text("old\n", encoding="utf-8")
    os.link(folder / "r.jsonl", folder / "backup.jsonl")
    (folder / "r.jsonl").chmod(0o640)
    assert batch("c.jsonl", "--out", "r.jsonl")[0] == 0
    assert (folder / "backup.jsonl").read_text(encoding="utf-8") == "old\n"
    assert ids_in(folder / "r.jsonl") == ["a"]
    assert (folder / "r.jsonl").stat().st_mode & 0o777 == 0o640  # its permissions kept


def test_output_files_refuse_before_creating_anything_and_clean_up_on_failure(
    tmp_path: Path,
) -> None:
    cohort = tmp_path / "c.jsonl"
    cohort.write_text("{}\n", encoding="utf-8")
    with pytest.raises(CohortError, match="is the same file as the cohort"):
        OutputFiles(
            [NamedFile("--out", tmp_path / "sub" / ".." / "c.jsonl")],
            [NamedFile("the cohort", cohort)],
        )
    files = OutputFiles(
        [NamedFile("--out", tmp_path / "new" / "r.jsonl")], [NamedFile("the cohort", cohort)]
    )
    assert not (tmp_path / "new").exists()  # checking created nothing
    with pytest.raises(RuntimeError), files:
        files.temporary(tmp_path / "new" / "r.jsonl").write_text("half")
        raise RuntimeError("the run failed")
    assert list((tmp_path / "new").iterdir()) == []  # the temporary file is gone
    assert file_identity(tmp_path / "a" / ".." / "x") == file_identity(tmp_path / "x")


# --- paths are taken literally ----------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("name", "decoys"),
    [
        ("cohort[1].parquet", ["cohort1.parquet"]),
        ("all*.parquet", ["all1.parquet", "allx.parquet"]),
        ("c?.parquet", ["cx.parquet"]),
        ("c[!1].parquet", ["c2.parquet"]),
        ("**.parquet", ["z.parquet"]),
        ("d[1]/c.parquet", ["d1/c.parquet"]),
        ("~/c.parquet", []),
        ("c]x{a,b}.parquet", ["c]xa.parquet"]),
    ],
)
def test_a_cohort_path_is_read_literally_never_as_a_pattern(
    folder: Path, engine: str, name: str, decoys: list[str]
) -> None:
    """Each decoy is a file DuckDB would read for the pattern the name makes (`~` is the home
    folder to DuckDB and pyarrow alike); only the file itself may be read."""
    for decoy in decoys:
        (folder / decoy).parent.mkdir(parents=True, exist_ok=True)
        parquet(folder / decoy, ["decoy"], [50])
    (folder / name).parent.mkdir(parents=True, exist_ok=True)
    parquet(folder / name, ["itself"], [60])
    status, output = batch(name, "--out", "r.jsonl", engine=engine)
    assert status == 0, output
    assert ids_in(folder / "r.jsonl") == ["itself"]


def test_a_glob_pattern_that_names_no_file_is_not_expanded(folder: Path) -> None:
    parquet(folder / "all1.parquet", ["a"], [30])
    status, output = batch("all*.parquet", "--out", "r.jsonl", engine="duckdb")
    assert status == 1
    assert "cohort file all*.parquet does not exist" in output


def test_a_name_duckdb_cannot_spell_literally_is_read_as_itself(folder: Path) -> None:
    """DuckDB reads a backslash in a pattern as an escape, and no spelling matches a backslash
    itself; the duckdb engine hands DuckDB the opened file (`/dev/fd/N`), so a name with both is
    read as itself on both engines, never as another file. (Where a path must reach DuckDB,
    `literal_path` refuses such a name: `test_literal_path_refuses_what_it_cannot_spell`.)"""
    name = "c\\*.parquet"
    parquet(folder / name, ["itself"], [60])
    parquet(folder / "c\\x.parquet", ["decoy"], [50])
    for engine in ENGINES:
        status, output = batch(name, "--out", "r.jsonl", engine=engine)
        assert status == 0, output
        assert ids_in(folder / "r.jsonl") == ["itself"]


def test_literal_path_refuses_what_it_cannot_spell() -> None:
    from leukorules.cohort.duckdb import literal_path
    from leukorules.cohort.readers import CohortError

    assert literal_path("/data/c[1]*.parquet") == "/data/c[[]1][*].parquet"
    assert literal_path("/data/plain.parquet") == "/data/plain.parquet"
    with pytest.raises(CohortError, match="cannot read"):
        literal_path("/data/c\\*.parquet")


def test_results_written_to_a_name_with_glob_characters_land_there(folder: Path) -> None:
    parquet(folder / "c.parquet", ["a"], [30])
    for engine in ENGINES:
        status, output = batch("c.parquet", "--out", f"r[1]*{engine}.parquet", engine=engine)
        assert status == 0, output
        assert pq.read_table(folder / f"r[1]*{engine}.parquet").column("id").to_pylist() == ["a"]


# --- option values ----------------------------------------------------------------------------

STRING_OPTIONS = ["COHORT", "--out", "--policy", "--errors", "--id-column", "--summary-json"]


def batch_with(option: str, value: str, engine: str) -> tuple[int, str]:
    """`batch` with one string option (or the cohort argument) given `value`."""
    given = {"COHORT": "c.jsonl", "--out": "r.jsonl", "--policy": "p.rules", option: value}
    args = [given.pop("COHORT"), "--engine", engine, "--jobs", "1"]
    for name, text in given.items():
        args += [name, text]
    result = leukorules("batch", *args)
    return result.exit_code, result.output


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("option", STRING_OPTIONS)
@pytest.mark.parametrize(
    "value", ["", "a\nb", "id\x1b[31m", "\t", "a\rb", "x\x00y", "\u202eid", "\x7f", "\x85"]
)
def test_an_empty_or_control_character_option_is_a_usage_error(
    folder: Path, engine: str, option: str, value: str
) -> None:
    (folder / "c.jsonl").write_text('{"id": "a", "age": 30}\n', encoding="utf-8")
    before = snapshot(folder)
    status, output = batch_with(option, value, engine)
    assert status == 2, output
    shown = "COHORT" if option == "COHORT" else option
    assert f"Invalid value for '{shown}'" in output
    assert ("it is empty" if not value else "is a control character") in output
    assert "\x1b" not in output and "\r" not in output and "\x00" not in output
    assert snapshot(folder) == before


@pytest.mark.parametrize("engine", ENGINES)
def test_an_id_column_with_spaces_or_quotes_is_a_column_name_like_any_other(
    folder: Path, engine: str
) -> None:
    """Printable text is a valid column name: only empty and control characters are refused."""
    for name in ("patient id", 'it\'s "id"', "ид"):
        (folder / "c.jsonl").write_text(
            json.dumps({name: "a", "age": 30, "diagnosis": "pml"}) + "\n", encoding="utf-8"
        )
        status, output = batch("c.jsonl", "--out", "r.jsonl", "--id-column", name, engine=engine)
        assert status == 0, output
        assert ids_in(folder / "r.jsonl") == ["a"]
