"""CSV lead import: the mapping format, the import service and import jobs.

``import_leads`` imports a file now (the management command); ``start_import``
records an ImportJob that a worker runs with ``run_import_job`` (the admin).
"""

from leads.importing.mapping import (
    ColumnRule,
    Mapping,
    MappingError,
    OutcomeRule,
    load_mapping,
    parse_mapping,
    shipped_mappings,
)
from leads.importing.results import ImportPreview, ImportRefused, ImportResult, RowError
from leads.importing.services import (
    import_leads,
    preview_import,
    resend_queued_imports,
    run_import_job,
    save_import_mapping,
    start_import,
)

__all__ = [
    "ColumnRule",
    "ImportPreview",
    "ImportRefused",
    "ImportResult",
    "Mapping",
    "MappingError",
    "OutcomeRule",
    "RowError",
    "import_leads",
    "load_mapping",
    "parse_mapping",
    "preview_import",
    "resend_queued_imports",
    "run_import_job",
    "save_import_mapping",
    "shipped_mappings",
    "start_import",
]
