"""No two places in non-test code share ten or more lines of the same shape (issue 15).

"Same shape" means the same lines once names, strings and numbers are set aside: a block written again
with other column names or another check's sentence is still the same block, and should be written once
(a fragment, a helper, a table of specs). What is passed over, as a reader would:

- blank lines, comments, lone punctuation, imports and docstrings (prose, not code);
- runs made mostly of thin lines: a bare name or string in a list (``pixel_id,``), a field or dict entry
  (``value: float``, ``"value": "double",``), a keyword argument set to a literal (``flag="paid",``). A
  column list, a table of fields or a list of check specs repeats by nature;
- a run that stands in more than eight places: that is the idiom of the language, not a copy.
"""

from __future__ import annotations

import ast
import keyword
import re
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: Non-test code: the core (Python and SQL), the dashboard, the benchmarks.
SOURCES = ("capi_core/**/*.py", "capi_core/**/*.sql", "pages/*.py", "ui/*.py", "app.py", "benchmarks/*.py")
RUN = 10
#: Of a run's lines, at least this many must carry logic (not thin), or the run is a list or a table.
MIN_LOGIC_LINES = 5
#: A shape found in more places than this is an idiom (e.g. a column list's framing), not a copy.
MAX_PLACES = 8

#: Words that stay as they are in a shape: the language's keywords (SQL's are compared in lower case).
_SQL_KEYWORDS = frozenset(
    re.findall(
        r"\w+",
        """select from where and or not null is in as on join left right inner outer full cross using group by
        order having limit offset union all distinct case when then else end with recursive create replace
        table view temp temporary insert into values update set delete drop if exists cast try_cast over
        partition rows range between preceding following current row unbounded filter asc desc nulls first
        last qualify any true false like ilike similar escape coalesce count sum min max avg exclude window
        lateral unnest struct list array map interval date timestamp varchar integer bigint double boolean""",
    )
)
_PYTHON_KEYWORDS = frozenset({*keyword.kwlist, "self", "cls"})
_TOKEN = re.compile(
    r"""(?P<str>[rbfuRBFU]{0,2}(?:\"\"\"|'''|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'))"""
    r"|(?P<num>\b\d[\d_.eE]*\b)|(?P<name>[A-Za-z_$][A-Za-z0-9_$]*)|(?P<op>\S)"
)
_PASSED_OVER = re.compile(r"^\s*($|#|--|import |from \S+ import |[\[\](){},:;]+$)")
_PUNCTUATION = {",", ".", "(", ")", ";"}


def shape(line: str, *, sql: bool = False) -> str:
    """The line with every name ``N``, string ``S`` and number ``0``; the language's keywords stay."""
    out = []
    for match in _TOKEN.finditer(line):
        kind, text = match.lastgroup, match.group()
        if kind == "str":
            out.append("S")
        elif kind == "num":
            out.append("0")
        elif kind == "name":
            word = text.lower() if sql else text
            out.append(word if word in (_SQL_KEYWORDS if sql else _PYTHON_KEYWORDS) else "N")
        else:
            out.append(text)
    return " ".join(out)


def is_logic(line_shape: str) -> bool:
    """False for thin lines: a field, a dict entry (in SQL, a ``when 'em' then c.em_check`` arm), a keyword
    argument set to a literal (a spec written as data), or fewer than three words not punctuation."""
    entry = (
        r"^(N|S) :",  # a field or a dict entry
        r"^N = (S|0|- 0|True|False|None) ,?$",  # a keyword argument set to a literal
        r"^when (S|0) then (N \. )?N$",  # SQL's dict entry: one arm of a case that maps a label to a column
    )
    if any(re.match(pattern, line_shape) for pattern in entry):
        return False
    return len([token for token in line_shape.split() if token not in _PUNCTUATION]) >= 3


def _prose_and_imports(text: str) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(ast.parse(text)):
        is_docstring = (
            isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        )
        if is_docstring or isinstance(node, ast.Import | ast.ImportFrom):
            lines.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return lines


def code_lines(name: str, text: str) -> list[tuple[int, str]]:
    """(line number, shape) of the lines that count in one file."""
    skipped = _prose_and_imports(text) if name.endswith(".py") else set()
    return [
        (number, shape(line.strip(), sql=name.endswith(".sql")))
        for number, line in enumerate(text.splitlines(), 1)
        if number not in skipped and not _PASSED_OVER.match(line)
    ]


def repeated_runs(files: dict[str, str], run: int = RUN) -> list[str]:
    """``a.py:12 ~ b.sql:40`` for each pair of files (or two places in one file) sharing a run."""
    places: dict[tuple[str, ...], list[tuple[str, int, int]]] = defaultdict(list)
    for name, text in files.items():
        lines = code_lines(name, text)
        for start in range(len(lines) - run + 1):
            window = lines[start : start + run]
            key = tuple(line_shape for _, line_shape in window)
            if sum(map(is_logic, key)) >= MIN_LOGIC_LINES:
                places[key].append((name, window[0][0], window[-1][0]))
    found: dict[tuple[str, str], str] = {}
    for spots in places.values():
        if len(spots) > MAX_PLACES:
            continue
        for i, (name_a, first_a, last_a) in enumerate(spots):
            for name_b, first_b, last_b in spots[i + 1 :]:
                if name_a == name_b and first_b <= last_a and first_a <= last_b:
                    continue  # one block overlapping itself (a run of alike lines), not two places
                found.setdefault(
                    (name_a, name_b), f"{name_a}:{first_a}-{last_a} ~ {name_b}:{first_b}-{last_b}"
                )
    return sorted(found.values())


def test_no_two_places_share_ten_lines_of_the_same_shape() -> None:
    files = {
        str(path.relative_to(ROOT)): path.read_text(encoding="utf-8")
        for pattern in SOURCES
        for path in sorted(ROOT.glob(pattern))
    }
    assert len(files) > 150
    assert repeated_runs(files) == []


def test_the_finder_sees_a_block_written_again_with_other_names() -> None:
    block = "\n".join(
        f"    total_{n} = sum(row['{n}'] for row in rows if row['{n}'] is not None)" for n in "abcdefghij"
    )
    other = block.replace("total_", "count_").replace("rows", "lines")
    files = {"a.py": f"def f(rows):\n{block}\n", "b.py": f"def g(lines):\n    x = 1\n{other}\n"}
    assert repeated_runs(files) == ["a.py:2-11 ~ b.py:3-12"]


def test_the_finder_passes_over_column_lists_and_field_tables() -> None:
    columns = "select\n" + "\n".join(f"    e.col_{n}," for n in range(12)) + "\nfrom events e"
    fields = "class A:\n" + "\n".join(f"    field_{n}: int" for n in range(12))
    files = {"a.sql": columns, "b.sql": columns.replace("col_", "other_"), "a.py": fields, "b.py": fields}
    assert repeated_runs(files) == []


def test_the_finder_sees_a_sql_block_written_again_for_other_columns() -> None:
    def block(prefix: str) -> str:
        lines = [
            f"    count(*) filter (where e.{prefix}_{n} is not null) as {prefix}_{n}_n," for n in range(10)
        ]
        return "select\n" + "\n".join(lines) + "\n    count(*) as copies\nfrom events e\ngroup by all"

    files = {"a.sql": block("em"), "b.sql": "-- the other keys\n" + block("ph")}
    assert repeated_runs(files) == ["a.sql:1-10 ~ b.sql:2-11"]
