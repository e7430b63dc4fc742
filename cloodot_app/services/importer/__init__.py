"""CSV import of contacts: read the file, guess the column mapping, preview, import.

The flow the UI drives, one module per step:

1. parse.py: `read_csv(data)` reads the uploaded bytes (encoding and delimiter detected,
   every cell a string) or raises CsvImportError with a message for the user.
2. mapping.py: `guess_mapping(parsed.headers, definitions)` proposes header -> target; the
   user edits it (targets: `import_targets(definitions)`); `validate_mapping` checks it.
3. check.py: `preview(...)` shows the first rows as they would be stored, with per-field
   errors (the same RowChecker the import uses).
4. write.py: `run_import(...)` imports every row in chunks and returns an ImportReport; its
   `errors_csv()` is the "download the problems" file.

jobs.py keeps one row per import (ImportJob) counted in the same transaction as each chunk,
so `recent_imports(...)` can say where an import stopped, even after kill -9.
uploads.py is an upload's life between the steps: written as it arrives (refused past
MAX_BYTES), parsed once (`open_upload`), previewed (`preview_upload`), imported
(`import_upload`), removed.

Callers use the package: `from cloodot_app.services import importer; importer.read_csv(...)`.
No Reflex import here.
"""

from __future__ import annotations

from cloodot_app.errors import CsvImportError, ImportInterrupted
from cloodot_app.services.importer import check, jobs, mapping, parse, uploads, write
from cloodot_app.services.importer.check import (
    NAME_MAX_LENGTH,
    NO_IDENTITY_MESSAGE,
    PREVIEW_ROWS,
    RowCheck,
    RowError,
    parse_opt_in,
    preview,
)
from cloodot_app.services.importer.jobs import (
    STALE_AFTER,
    ImportOutcome,
    recent_imports,
)
from cloodot_app.services.importer.mapping import (
    BUILTIN_TARGETS,
    IDENTITY_TARGETS,
    IGNORE,
    NAME_TARGETS,
    contact_field_definitions,
    guess_mapping,
    import_targets,
    validate_mapping,
)
from cloodot_app.services.importer.parse import (
    DEFAULT_CHUNK_SIZE,
    DELIMITER_NAMES,
    DELIMITERS,
    ParsedCsv,
    read_csv,
)
from cloodot_app.services.importer.uploads import (
    IMPORT_DIR,
    UploadSummary,
    UploadWriter,
    forget_upload,
    import_file,
    import_upload,
    open_upload,
    parsed_upload,
    preview_upload,
    problems_suffix,
    save_problems,
)
from cloodot_app.services.importer.write import (
    ImportReport,
    OnDuplicate,
    Progress,
    SessionFactory,
    avatar_color,
    run_import,
)

__all__ = [
    "BUILTIN_TARGETS",
    "DEFAULT_CHUNK_SIZE",
    "DELIMITERS",
    "DELIMITER_NAMES",
    "IDENTITY_TARGETS",
    "IGNORE",
    "IMPORT_DIR",
    "NAME_MAX_LENGTH",
    "NAME_TARGETS",
    "NO_IDENTITY_MESSAGE",
    "PREVIEW_ROWS",
    "STALE_AFTER",
    "CsvImportError",
    "ImportInterrupted",
    "ImportOutcome",
    "ImportReport",
    "OnDuplicate",
    "ParsedCsv",
    "Progress",
    "RowCheck",
    "RowError",
    "SessionFactory",
    "UploadSummary",
    "UploadWriter",
    "avatar_color",
    "check",
    "contact_field_definitions",
    "forget_upload",
    "guess_mapping",
    "import_file",
    "import_targets",
    "import_upload",
    "jobs",
    "mapping",
    "open_upload",
    "parse",
    "parse_opt_in",
    "parsed_upload",
    "preview",
    "preview_upload",
    "problems_suffix",
    "read_csv",
    "recent_imports",
    "run_import",
    "save_problems",
    "uploads",
    "validate_mapping",
    "write",
]
