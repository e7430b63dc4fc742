"""Custom field definitions: the settings list, create / rename / options, type changes,
ordering and deletion — and what each does to the values already stored.

Values live in `contact.custom_fields` / `conversation.custom_fields` (JSON) under the
definition's `key`. A key is made once, from the first label, and never changes: segments
("cf.<key>" / "conv.<key>") and stored values refer to it. Nothing here corrupts a stored
value silently: a change that would lose values is refused with a message saying how many,
and only goes ahead when the caller confirms (drop_values / drop_invalid).

Values are rewritten in chunks of CHUNK_SIZE rows (the matching ids read first, then each
chunk by primary key; SQLAlchemy Core), one key at a time (`cloodot_app.json_sql`: SQLite
json_set / json_remove, PostgreSQL jsonb `||` / `-`), so other keys edited meanwhile are
left alone and a million contacts are never loaded at once. Rows are changed with Core
statements: Contact / Conversation objects already loaded in the same session are not
refreshed.

One module per job; this package re-exports what callers use:
- `checks`: the limits and the checks every change goes through (label, type, options);
- `definitions`: the settings list and usage, create, save, reorder, delete;
- `options`: rename and options, moving or clearing the values they touch;
- `type_change`: converting every stored value to a new type, or refusing to;
- `stored_values`: reading and writing one key of the stored values, chunk by chunk.
"""

from cloodot_app.errors import FieldDefinitionError, FieldValueError, NotFound
from cloodot_app.fieldtypes import FIELD_TYPES
from cloodot_app.services.custom_fields.checks import (
    ENTITIES,
    FIELD_LABEL_MAX_LENGTH,
    KEY_MAX_LENGTH,
    KEY_PATTERN,
    MAX_OPTIONS,
    OPTION_MAX_LENGTH,
)
from cloodot_app.services.custom_fields.definitions import (
    FieldDefinitionSummary,
    FieldSummary,
    FieldUsage,
    create_field,
    delete_field,
    field_definitions,
    field_usage,
    list_fields,
    move_field,
    save_field,
    slugify,
    unique_key,
)
from cloodot_app.services.custom_fields.options import update_field
from cloodot_app.services.custom_fields.stored_values import CHUNK_SIZE
from cloodot_app.services.custom_fields.type_change import (
    EXAMPLES,
    Progress,
    TypeChangeReport,
    change_field_type,
    preview_type_change,
)

__all__ = [
    "CHUNK_SIZE",
    "ENTITIES",
    "EXAMPLES",
    "FIELD_LABEL_MAX_LENGTH",
    "FIELD_TYPES",
    "KEY_MAX_LENGTH",
    "KEY_PATTERN",
    "MAX_OPTIONS",
    "OPTION_MAX_LENGTH",
    "FieldDefinitionError",
    "FieldDefinitionSummary",
    "FieldSummary",
    "FieldUsage",
    "FieldValueError",
    "NotFound",
    "Progress",
    "TypeChangeReport",
    "change_field_type",
    "create_field",
    "delete_field",
    "field_definitions",
    "field_usage",
    "list_fields",
    "move_field",
    "preview_type_change",
    "save_field",
    "slugify",
    "unique_key",
    "update_field",
]
