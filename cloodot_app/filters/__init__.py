"""The one filter language: a FilterSpec compiled to one SQLAlchemy expression and its words.

The quick-filter drawer, saved segments, the Leads board columns, segment counts and the
CSV export all go through `compile_spec` (or its older faces `compile_filter`,
`validate_spec`, `describe_spec`). A spec is validated against a `FieldCatalog` (built-in
fields + the workspace's custom fields and labels) and the bounds of `limits` before it is
compiled, so a bad or crafted spec is a readable `FilterError`, never SQL and never a crash.

- `spec`: the spec (pydantic), the fields a workspace has, the compile context;
- `operators`: one `Operator` record per operator of each field kind (label, value shape,
  input kind, SQL, words);
- `values`: the value shapes, coerced or refused (with the bounds of `limits`);
- `compile`: `compile_spec` -> `CompiledFilter` (where + chips + words).
"""

from cloodot_app.errors import FilterError
from cloodot_app.filters.compile import (
    CompiledFilter,
    compile_filter,
    compile_spec,
    describe_condition,
    describe_spec,
    validate_spec,
)
from cloodot_app.filters.limits import (
    MAX_CONDITIONS,
    MAX_DATE,
    MAX_DAYS,
    MAX_DEPTH,
    MAX_ID,
    MAX_NUMBER,
    MAX_TEXT_LENGTH,
    MAX_VALUES,
    MIN_DATE,
    MIN_DAYS,
    valid_id,
)
from cloodot_app.filters.operators import (
    INPUT_KINDS,
    OPERATORS,
    OPERATORS_BY_KIND,
    Operator,
    operator_for,
)
from cloodot_app.filters.spec import (
    CONTACT_FIELD_PREFIX,
    CONVERSATION_FIELD_PREFIX,
    CompileContext,
    Condition,
    FieldCatalog,
    FieldInfo,
    FilterSpec,
)

__all__ = [
    "CONTACT_FIELD_PREFIX",
    "CONVERSATION_FIELD_PREFIX",
    "INPUT_KINDS",
    "MAX_CONDITIONS",
    "MAX_DATE",
    "MAX_DAYS",
    "MAX_DEPTH",
    "MAX_ID",
    "MAX_NUMBER",
    "MAX_TEXT_LENGTH",
    "MAX_VALUES",
    "MIN_DATE",
    "MIN_DAYS",
    "OPERATORS",
    "OPERATORS_BY_KIND",
    "CompileContext",
    "CompiledFilter",
    "Condition",
    "FieldCatalog",
    "FieldInfo",
    "FilterError",
    "FilterSpec",
    "Operator",
    "compile_filter",
    "compile_spec",
    "describe_condition",
    "describe_spec",
    "operator_for",
    "valid_id",
    "validate_spec",
]
