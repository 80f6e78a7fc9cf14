"""python manage.py import_leads FILE --mapping MAPPING.json [--skip-invalid]"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from handoff.errors import DomainError
from leads import importing
from leads.importing.mapping import SHIPPED_MAPPINGS_DIR


class Command(BaseCommand):
    help = (
        "Import leads from a CSV file (UTF-8, header line first) through a JSON mapping. "
        "With any bad row nothing is imported, unless --skip-invalid is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="The CSV file.")
        parser.add_argument(
            "--mapping",
            required=True,
            help="A mapping JSON file, or the name of a shipped mapping (e.g. x_education).",
        )
        parser.add_argument(
            "--skip-invalid",
            action="store_true",
            help="Import the good rows and report the bad ones as skipped.",
        )

    def handle(self, *args, file: Path, mapping: str, skip_invalid: bool, **options):
        mapping_path = Path(mapping)
        if not mapping_path.exists() and (SHIPPED_MAPPINGS_DIR / f"{mapping}.json").exists():
            mapping_path = SHIPPED_MAPPINGS_DIR / f"{mapping}.json"
        try:
            parsed = importing.load_mapping(mapping_path.read_bytes())
            with file.open("rb") as stream:
                result = importing.import_leads(
                    file=stream, mapping=parsed, skip_invalid=skip_invalid
                )
        except OSError as error:
            raise CommandError(f"Cannot read {error.filename}: {error.strerror}.") from None
        except importing.ImportRefused as refused:
            for error in refused.errors:
                self.stderr.write(str(error))
            raise CommandError(refused.message) from None
        except DomainError as error:
            raise CommandError(error.message) from None

        self.stdout.write(
            f"{result.rows_read} rows read: {result.created} leads created, "
            f"{result.updated} updated, {result.skipped} rows skipped."
        )
        for error in result.errors:
            self.stdout.write(f"skipped {error}")
        if result.ignored_columns:
            self.stdout.write(
                f"Columns not in the mapping, ignored: {', '.join(result.ignored_columns)}."
            )
