"""Messages about a policy's source: LR1xx reading and parsing, LR2xx names, LR3xx types, LR4xx
policy logic (what `leukorules check` reports)."""

from __future__ import annotations

from leukorules.diagnostics import Code, Message

# --- LR1xx: reading and parsing -----------------------------------------------------------------

# What a path is when it is not a regular file, as `leukorules.reading` names it; every reader
# (policies, facts, scenarios, guideline sources, decision logs) puts it into its own message.
KIND_FOLDER = "a folder"
KIND_DEVICE = "a device"
KIND_FIFO = "a FIFO (named pipe)"
KIND_SOCKET = "a socket"
KIND_SPECIAL = "a special file"

_SPLIT_HINT = "split the policy into several files joined with `include`"
FILE_TOO_LARGE = Message(
    Code.LR101, "file is {size:,} bytes; policy files are limited to {limit:,} bytes", _SPLIT_HINT
)
FILE_OVER_LIMIT = Message(
    Code.LR101, "file is larger than {limit:,} bytes, the limit for policy files", _SPLIT_HINT
)
FILE_NOT_UTF8 = Message(
    Code.LR102,
    "file is not valid UTF-8: byte 0x{byte:02x} cannot be decoded",
    "policy files are UTF-8 text; re-save the file as UTF-8",
)
FILE_HAS_NUL = Message(
    Code.LR102,
    "file contains a NUL byte; it looks like binary data, not a policy",
    "policy files are UTF-8 text",
)
FOLDER_WITHOUT_POLICY = Message(Code.LR103, "folder contains no {suffix} files")
NO_SUCH_PATH = Message(
    Code.LR103, "no such file or folder", "give a {suffix} file or a folder of them"
)
FILE_UNREADABLE = Message(Code.LR103, "cannot read {name}: {reason}")
NOT_A_POLICY_FILE = Message(
    Code.LR103,
    "{name} is {kind}, not a policy file",
    "a policy is regular `.rules` files: give one, or a folder of them",
)
_EMPTY_HINT = "a policy file holds declarations such as `policy`, `fact`, `section` and `rule`"
EMPTY_FILE = Message(Code.LR104, "policy file is empty", _EMPTY_HINT)
ONLY_COMMENTS = Message(Code.LR104, "policy file holds only comments", _EMPTY_HINT)

# Syntax errors. Templates: `found` (the token, described), `expected` (what would fit),
# `text` (the token as written), `previous` (the token before it); hints in braces are
# written `{{` and `}}`.
_UNEXPECTED = "unexpected {found}; expected {expected}"
_UNCLOSED = "the `{opener}` on line {line} is not closed: add the matching `{closer}`"
UNEXPECTED_TOKEN = Message(Code.LR110, _UNEXPECTED)
UNEXPECTED_TOKEN_UNCLOSED = Message(Code.LR110, _UNEXPECTED, _UNCLOSED)
MISSPELT_KEYWORD = Message(Code.LR110, _UNEXPECTED)  # the hint names the keywords meant
EQUALS_IN_CONDITION = Message(Code.LR110, _UNEXPECTED, "use `==` to compare a fact with a value")
DOUBLE_EQUALS_IN_DERIVE = Message(
    Code.LR110, _UNEXPECTED, "a derivation assigns with a single `=`: derive fact = value"
)
UNQUOTED_TEXT = Message(Code.LR110, _UNEXPECTED, 'text is written in double quotes: "..."')
UNMATCHED_PARENTHESIS = Message(Code.LR110, _UNEXPECTED, "this `)` has no matching `(`")
UNMATCHED_BRACE = Message(Code.LR110, _UNEXPECTED, "this `}}` has no matching `{{`")
FIELD_SEPARATOR = Message(
    Code.LR110, _UNEXPECTED, "leave out the `{text}`: a field is its name followed by its value"
)
TRAILING_COMMA = Message(
    Code.LR110,
    "the list ends with `,`, so the `{previous}` after it was read as an item",
    "remove the trailing `,`",
)
MISSING_COMMA = Message(Code.LR110, _UNEXPECTED, "separate the items of a list with commas")
MISSING_BRACE = Message(
    Code.LR110, _UNEXPECTED, "a block's fields are written inside `{{` and `}}`"
)
GLUED_KEYWORD = Message(
    Code.LR110, "unexpected name `{word}`", "put a space after `{keyword}`: {keyword} {rest}"
)
SYNTAX_ERROR = Message(Code.LR110, "syntax error")
# Characters no terminal starts with. Templates: `char` (the character, shown), `shown` (the
# characters replaced), `expected`.
_UNEXPECTED_CHARACTER = "unexpected character {char}; expected {expected}"
_UNEXPECTED_SYMBOL = "unexpected `{shown}`; expected {expected}"
UNEXPECTED_CHARACTER = Message(Code.LR111, _UNEXPECTED_CHARACTER)
WRONG_QUOTES = Message(
    Code.LR111, _UNEXPECTED_CHARACTER, 'strings are written in straight double quotes: "..."'
)
DASH_IN_NAME = Message(
    Code.LR111,
    _UNEXPECTED_CHARACTER,
    "names and ids are letters, digits and `_`, joined by dots; `-` is not allowed",
)
AND_SYMBOL = Message(Code.LR111, _UNEXPECTED_SYMBOL, "use `and` to combine conditions")
OR_SYMBOL = Message(Code.LR111, _UNEXPECTED_SYMBOL, "use `or` to combine conditions")
NOT_SYMBOL = Message(
    Code.LR111, _UNEXPECTED_SYMBOL, "use `not` to negate a condition, or `!=` to compare"
)
AT_LEAST_SYMBOL = Message(Code.LR111, _UNEXPECTED_SYMBOL, "write `>=` for ≥")
AT_MOST_SYMBOL = Message(Code.LR111, _UNEXPECTED_SYMBOL, "write `<=` for ≤")
NOT_EQUAL_SYMBOL = Message(Code.LR111, _UNEXPECTED_SYMBOL, "write `!=` for ≠")
UNEXPECTED_END = Message(Code.LR112, "unexpected end of file; expected {expected}")
UNEXPECTED_END_UNCLOSED = Message(
    Code.LR112, "unexpected end of file; expected {expected}", _UNCLOSED
)
UNTERMINATED_STRING = Message(
    Code.LR113,
    'unterminated string: a string must end with `"` on the line where it starts',
    'add the closing `"`; write \\" for a quote inside a string',
)
_NESTING_HINT = "split the condition with derived facts, or remove redundant parentheses"
CONDITION_TOO_DEEP = Message(
    Code.LR114, "condition nested more than {limit} levels deep", _NESTING_HINT
)
INPUT_TOO_DEEP = Message(
    Code.LR114,
    "nested more than {limit:,} levels deep; the file is not read further",
    _NESTING_HINT,
)
# Literals (`leukorules.syntax.literals`). Templates: `char` (the character after the
# backslash), `code` and `meant` (the hex digits of a \\u escape and the character they name),
# `digits` (how many digits the number has; the number itself can be megabytes long).
UNKNOWN_ESCAPE = Message(
    Code.LR115,
    "unknown escape `\\{char}` in a string",
    'the escapes are \\" \\\\ \\n and \\t; write \\\\{char} to keep the backslash',
)
UNICODE_ESCAPE = Message(
    Code.LR115,
    "unknown escape `\\u{code}` in a string: strings have no \\u escapes",
    "write the character itself ({meant}), or \\\\u{code} to keep the backslash",
)
NUMBER_TOO_LARGE = Message(
    Code.LR116,
    "this number ({digits} digits) is too large",
    "numbers in a policy are at most about 1.8e308 in size: look for a typo",
)
NUMBER_TOO_SMALL = Message(
    Code.LR116,
    "this number ({digits} digits) is too close to zero: it would be read as 0",
    "write 0 if zero is meant; numbers nearer zero than about 5e-324 cannot be told from it",
)
INCLUDE_MISSING = Message(
    Code.LR120,
    "included file `{path}` does not exist",
    "paths are relative to the including file{files_here}",
)
INCLUDE_CYCLE = Message(Code.LR121, "include cycle: {cycle}", "remove one include")

# --- LR2xx: names -------------------------------------------------------------------------------

# Reported by the resolver (`leukorules.check`). `what` names a block in words ("the policy
# header", "evidence 4"); `block` is `rule` or `gap`. A hint passed at the call site (a "did you
# mean") takes the place of the declared one.
FACT_UNDECLARED = Message(
    Code.LR201, "fact `{name}` is not declared", 'declare it: fact {name}: bool "..."'
)
DERIVED_FACT_UNDECLARED = Message(
    Code.LR201,
    "derived fact `{name}` is not declared",
    "declare it: derived {name}: enum {{...}}",
)
EVIDENCE_UNDECLARED = Message(
    Code.LR202,
    "evidence `{ref}` is not declared",
    "declare it: evidence {ref} {{ citation unknown }}",
)
RULE_UNDECLARED = Message(Code.LR203, "rule `{name}` is not declared")
EVIDENCE_DECLARED_TWICE = Message(Code.LR204, "evidence `{ref}` is declared twice")
FACT_DECLARED_TWICE = Message(Code.LR204, "fact `{name}` is declared twice")
ENUM_VALUE_TWICE = Message(Code.LR204, "enum value `{value}` is listed twice")
RULE_ID_TWICE = Message(
    Code.LR204,
    "{block} id `{id}` is used twice",
    "rule, gap and constraint ids are stable identifiers and must be unique",
)
SECTION_TWICE = Message(
    Code.LR204,
    "section {title!r} appears twice under the same heading",
    "merge the two sections; each heading of the source appears once",
)
UNKNOWN_FIELD = Message(
    Code.LR205, "unknown field `{key}` in {what}", "{what} fields are: {allowed}"
)
FIELD_NOT_ALLOWED = Message(
    Code.LR205, "`{kind}` is not allowed in a {block}", "a {block} may hold: {allowed}"
)
HEADER_FIELD_MISSING = Message(
    Code.LR206, "the policy header has no `{key}`", 'add `{key} "..."` inside the braces'
)
STATEMENT_MISSING = Message(
    Code.LR206,
    "rule `{rule}` has no `statement`",
    'quote the guideline sentence verbatim: statement "..."',
)
FIELD_TWICE = Message(Code.LR207, "field `{key}` is given twice in {what}")
_BODY_FIELD_TWICE = "`{kind}` is given twice in {block} `{rule}`"
CONDITION_TWICE = Message(
    Code.LR207, _BODY_FIELD_TWICE, "combine the conditions in one `when` with `and`"
)
LIST_TWICE = Message(
    Code.LR207, _BODY_FIELD_TWICE, "list several values on one line, separated by commas"
)
BODY_FIELD_TWICE = Message(Code.LR207, _BODY_FIELD_TWICE, "a {block} has one `{kind}`")
EVIDENCE_LISTED_TWICE = Message(Code.LR207, "evidence `{ref}` is listed twice")
NO_POLICY_HEADER = Message(
    Code.LR208,
    "the policy has no `policy` header",
    'start the main file with: policy my.policy {{ title "..." version "1.0" }}',
)
SECOND_POLICY_HEADER = Message(
    Code.LR208,
    "a policy has exactly one `policy` header; this is a second one",
    "an included file holds declarations and sections, not a header",
)
NOT_A_STRING = Message(Code.LR209, "`{key}` of {what} must be a string")
EFFECTIVE_NOT_A_DATE = Message(
    Code.LR209,
    "`effective` must be a calendar date",
    "write it as YYYY-MM-DD, e.g. effective 2026-01-31",
)
CITATION_NOT_TEXT = Message(
    Code.LR209,
    "`citation` must be a quoted citation or `unknown`",
    "write `citation unknown` when the source gives no citation",
)
NOT_A_CHOICE = Message(Code.LR209, "`{value}` is not a {what}", "allowed: {allowed}")
EMPTY_STATEMENT = Message(Code.LR209, "the statement is empty")
RECOMMENDATION_FIELD = Message(Code.LR209, "`{key}` belongs to a `recommend` conclusion")
LINE_NOT_A_LINE = Message(
    Code.LR209,
    "`line {value}` is not a line of therapy",
    "lines of therapy are whole numbers from 1 to {highest}",
)
REQUIRE_MISSING = Message(
    Code.LR206,
    "constraint `{id}` has no `require`",
    "say what the facts must satisfy where it applies: require ...",
)

# The evidence `url` and the header's `source`, which reports turn into a link and read from
# disk (`leukorules.check.declarations`). `ref` is the evidence id; `value` the text as written;
# `why` says, in words, what is wrong with the path or the file it names.
URL_NOT_WEB = Message(
    Code.LR209,
    "`url` of evidence {ref} must be an http or https address",
    'reports write it as a link: give the whole address, e.g. url "https://example.org/guideline"',
)
SOURCE_NOT_BESIDE = Message(
    Code.LR209,
    "the guideline source `{value}` {why}",
    "the source file must sit beside the policy or in its source/ folder (reports read nothing "
    'else): name the file alone, e.g. source "guideline.txt"',
)

# --- LR3xx: types -------------------------------------------------------------------------------

# Reported by the resolver. `a_type` describes a fact's type ("an integer fact (0..120)"); the
# hint of a comparison that does not fit is an example for that fact's type, written where the
# fact is known.
NOT_IN_ENUM = Message(
    Code.LR301, "`{value}` is not a value of `{name}`", "allowed values: {values}"
)
NOT_IN_ENUM_CLOSE = Message(
    Code.LR301,
    "`{value}` is not a value of `{name}`",
    "{suggestion} (allowed values: {values})",
)
NOT_A_YES_NO_FACT = Message(Code.LR302, "`{name}` is {a_type}, not a yes/no fact")
DERIVING_AN_INPUT = Message(
    Code.LR302, "`{name}` is an input fact; only `derived` facts can be derived"
)
FACTS_NOT_COMPARABLE = Message(
    Code.LR302, "cannot compare `{left}` ({left_type}) with `{right}` ({right_type})"
)
LITERAL_TYPE_MISMATCH = Message(Code.LR302, "`{name}` is {a_type}; `{value}` is not {wanted}")
NOT_A_CALENDAR_DATE = Message(Code.LR302, "`{value}` is not a calendar date")
FACTS_UNIT_MISMATCH = Message(
    Code.LR303,
    "unit mismatch: `{left}` is in [{left_unit}], `{right}` in [{right_unit}]",
    "compare facts measured in the same unit",
)
LITERAL_UNIT_MISMATCH = Message(
    Code.LR303,
    "unit mismatch: `{name}` is declared with {declared}, the value is in [{unit}]",
    "convert the value to the declared unit",
)
SET_IN_MEMBERSHIP = Message(
    Code.LR304,
    "`{name}` is a set; test one element with `contains`",
    "e.g. {name} contains {value}",
)
SET_COMPARED = Message(Code.LR304, "`{name}` is a set; test its elements with `contains`")
CONTAINS_WITHOUT_SET = Message(Code.LR304, "`contains` needs a set fact; `{name}` is {a_type}")
ORDERING_NOT_DEFINED = Message(
    Code.LR304,
    "`{op}` orders numbers and dates; `{name}` is {a_type}",
    "use == or != (or `in {{...}}`) for this fact",
)
ORDERING_FACTS = Message(Code.LR304, "`{op}` orders numbers and dates only")
EMPTY_RANGE = Message(Code.LR305, "range {low}..{high} is empty", "write the lower bound first")
INTEGER_RANGE_NOT_WHOLE = Message(Code.LR305, "an integer range needs whole-number bounds")
OUTSIDE_RANGE = Message(Code.LR306, "{value} is outside the declared range of `{name}` ({type})")

# --- LR4xx: policy logic ------------------------------------------------------------------------

# The resolver's (`leukorules.check`): checked while rules are read, before the logic checks.
EVIDENCE_MISSING = Message(
    Code.LR401,
    "rule `{rule}` states a guideline statement without evidence",
    "add the statement's evidence reference, e.g. `evidence 4`",
)
CONCLUSION_MISSING = Message(
    Code.LR402,
    "rule `{rule}` has no conclusion",
    'add one of: recommend "action", note, caution, background, derive fact = value',
)
TWO_CONCLUSIONS = Message(
    Code.LR402,
    "rule `{rule}` has more than one conclusion",
    "split it into two rules, one conclusion each",
)
RULE_REFERS_TO_ITSELF = Message(Code.LR410, "rule `{rule}` cannot be `{kind}` itself")
UNKNOWN_STRENGTH = Message(
    Code.LR412, "`{name}` is not a strength of recommendation", "strengths: {strengths}"
)


CONSTRAINT_READS_DERIVED = Message(
    Code.LR414,
    "constraint `{id}` reads the derived fact `{name}`",
    "constraints hold between the facts given, before any rule derives anything; "
    "state it over the input facts `{name}` is derived from",
)

# The checker's logic analysis (`leukorules.check.analysis`).

CYCLE = Message(
    Code.LR403,
    "cycle: {path}",
    "a rule cannot depend, through derived facts, `after` or `overrides`, on itself",
)
NEVER_TRUE = Message(
    Code.LR404,
    "the condition of {kind} `{id}` can never be true",
    "no combination of fact values satisfies it; look for contradictory tests such as "
    "`x == a and x == b`",
)
CONFLICTING_DERIVATIONS = Message(
    Code.LR405,
    "rules `{first}` and `{second}` can both fire and derive different values for `{fact}` "
    "({first_value} vs {second_value}), and neither overrides the other",
    "say which rule wins: add `overrides {first}` to `{second}` (or `overrides {second}` to "
    "`{first}`), or make the conditions exclusive.\nA patient that makes both fire, as a "
    "scenario:\n{scenario}",
)
FACT_UNUSED = Message(
    Code.LR406,
    "fact `{name}` is declared but no condition reads it",
    "remove it, or use it in a rule",
)
EVIDENCE_UNUSED = Message(Code.LR407, "evidence `{id}` is declared but no rule cites it")
EVIDENCE_WITHOUT_CITATION = Message(
    Code.LR408,
    "evidence `{id}` has no citation",
    'add `citation "..."`, or `citation unknown` when the source gives none',
)
GAP_EMPTY_HEADING = Message(
    Code.LR409, "guideline gap `{id}`: the source makes no statement under {heading!r}"
)
GAP_TOPIC = Message(
    Code.LR409,
    "guideline gap `{id}`: the statements under {heading!r} do not cover this case",
    "{note}",
)
GAP_AS_RULE_TARGET = Message(Code.LR410, "`{target}` is a gap; `after` and `overrides` name rules")
MUTUAL_OVERRIDES = Message(
    Code.LR410,
    "`{first}` and `{second}` override each other",
    "precedence goes one way: keep `overrides` on the rule that wins",
)
DERIVED_NEVER_DERIVED = Message(
    Code.LR411,
    "derived fact `{name}` is never derived by any rule",
    "add a rule with `derive {name} = ...`",
)
LINE_BEFORE_ITS_PREDECESSOR = Message(
    Code.LR410,
    "`{rule}` states line {line} but comes after `{after}`, line {after_line}",
    "a line of therapy comes after the lines it follows: state a line above {after_line}",
)
CONSTRAINT_NEVER_APPLIES = Message(
    Code.LR415,
    "constraint `{id}` never applies: its `when` can never be true",
    "look for contradictory tests in its `when`, or remove the constraint",
)
CONSTRAINT_NEVER_BROKEN = Message(
    Code.LR416,
    "constraint `{id}` can never be broken: wherever it applies, its `require` holds",
    "it checks nothing; remove it, or correct its `when` or `require`",
)
CONSTRAINT_NEVER_MET = Message(
    Code.LR417,
    "constraint `{id}` can never be met: wherever it applies, its `require` is false",
    "every patient it applies to would be refused; to forbid a combination of facts on "
    "purpose, write `require false`",
)
CONFLICT_CHECK_GAVE_UP = Message(
    Code.LR413,
    "could not decide whether `{first}` and `{second}` can both fire",
    "the conditions involve too many facts to enumerate; declare the precedence with "
    "`overrides` to be safe",
)

# Properties and the solver (issue 17: `leukorules prove`, `leukorules.prove`). Properties are
# resolved in `leukorules.check.properties`; the solver decides the logic checks exactly.

PROPERTY_ID_TWICE = Message(
    Code.LR204,
    "property `{id}` is declared twice",
    "property ids name what `leukorules prove` proves and must be unique",
)
OUTCOME_OF_AN_UNDECLARED_RULE = Message(Code.LR203, "rule `{name}` is not declared")
OUTCOME_OF_A_NON_RULE = Message(
    Code.LR203,
    "`{name}` is a {block}, not a rule: only rules have outcomes",
    "a property tests the outcome (fired, not_fired, undetermined, overridden) of a rule",
)
NEVER_FIRES = Message(
    Code.LR420,
    "rule `{id}` can never fire: {reason}",
    "no patient the constraints admit makes it fire; check its `after`, `overrides` and the "
    "derived facts it reads, or remove it",
)
BOUNDED_SEARCH = Message(
    Code.LR421,
    "the logic checks searched a bounded set of patients (conditions that can never be true, "
    "conflicting derivations, constraints); rules that can never fire were not checked",
    "`pip install 'leukorules[prove]'` installs a solver that decides them all exactly",
)
