"""Reading an uploaded CSV file: encoding, delimiter, header row, every cell a string.

`read_csv(data)` returns a ParsedCsv or raises CsvImportError with a message for the user.
Row numbers are the spreadsheet's: the header is row 1, the first data row row 2. Blank
rows are ignored but still counted, so the numbers match what Excel shows.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pandas as pd

from cloodot_app.errors import CsvImportError
from cloodot_app.fieldtypes import digits_only
from cloodot_app.settings import settings

MAX_ROWS = 100_000
MAX_COLUMNS = 200
# The upload is refused past this size while it is still arriving (files.UploadWriter).
MAX_BYTES = settings.import_max_bytes
# pandas reads this many lines at a time (so MAX_ROWS is checked as the rows come).
ROWS_PER_READ = 20_000
DEFAULT_CHUNK_SIZE = 1000
DELIMITERS = (",", ";", "\t")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}
# How much of the file csv.Sniffer looks at.
SNIFF_BYTES = 16 * 1024


@dataclass
class ParsedCsv:
    """An uploaded file, read: headers (stripped, unique) and the data rows as strings.

    Blank rows are dropped; `total_rows` counts the others. Picklable, but it holds the
    whole file: keep it on the backend (or keep the bytes and call read_csv again), never
    in a state var.
    """

    headers: list[str]
    frame: pd.DataFrame
    # Spreadsheet row number of each data row (header = 1), in frame order.
    row_numbers: list[int]
    encoding: str  # "utf-8-sig" | "utf-8" | "utf-16" | "cp1252" | "latin-1"
    delimiter: str  # "," | ";" | "\t"

    @property
    def total_rows(self) -> int:
        return len(self.row_numbers)

    @property
    def delimiter_name(self) -> str:
        return DELIMITER_NAMES[self.delimiter]

    def chunks(self, size: int = DEFAULT_CHUNK_SIZE) -> Iterator[list[tuple[int, list[str]]]]:
        """(row number, cells in header order) lists of at most `size` rows."""
        size = max(1, size)
        for start in range(0, self.total_rows, size):
            cells = self.frame.iloc[start : start + size].to_numpy(dtype=object).tolist()
            yield list(zip(self.row_numbers[start : start + size], cells, strict=True))

    def sample_values(self, header: str, count: int = 3) -> list[str]:
        """The first `count` non-blank values of a column (for the mapping screen)."""
        values: list[str] = []
        for value in self.frame[header]:
            text = str(value).strip()
            if text:
                values.append(text)
                if len(values) >= count:
                    break
        return values


def read_csv(data: bytes) -> ParsedCsv:
    """Read an uploaded CSV file. Raises CsvImportError (message for the user) for a file
    that is empty, too big (MAX_BYTES, MAX_COLUMNS, MAX_ROWS), not text, without a header
    row, with duplicate column names, with only a header, or that is not valid CSV."""
    if len(data) > MAX_BYTES:
        raise CsvImportError(too_big_message(MAX_BYTES))
    text, encoding = _decode(data)
    if not text.strip():
        raise CsvImportError("The file is empty.")
    if "\x00" in text:
        raise CsvImportError(
            "This does not look like a CSV file. Save the spreadsheet as CSV and try again."
        )
    # Blank lines before the header are skipped, but counted in the row numbers.
    blank = _LEADING_BLANK_LINES.match(text)
    leading_blank = len(_LINE_BREAK.findall(blank.group())) if blank else 0
    text = text[blank.end() :] if blank else text
    delimiter = _detect_delimiter(text)
    # Before pandas: 20,000 columns (164 KB) took 3.7 s to parse and to show.
    _check_width(text, delimiter)
    headers, frame, row_numbers = _read_rows(text, delimiter, leading_blank)
    if not row_numbers:
        raise CsvImportError("The file has a header row but no contacts.")
    return ParsedCsv(headers, frame, row_numbers, encoding, delimiter)


def too_big_message(max_bytes: int) -> str:
    return (
        f"The file is larger than {size_text(max_bytes)}. Split it into smaller files "
        "and import them one after the other."
    )


def size_text(size: int) -> str:
    """20971520 -> "20 MB" (bytes under a megabyte: "900 bytes")."""
    megabytes = size / (1024 * 1024)
    return f"{megabytes:.0f} MB" if megabytes >= 1 else f"{size:,} bytes"


def _check_width(text: str, delimiter: str) -> None:
    try:
        header = next(csv.reader(io.StringIO(text), delimiter=delimiter), [])
    except csv.Error:
        return  # pandas reads it next and says what is wrong
    if len(header) > MAX_COLUMNS:
        raise CsvImportError(
            f"The file has {len(header):,} columns; at most {MAX_COLUMNS} can be imported. "
            "Delete the columns you do not need and try again."
        )


def _read_rows(
    text: str, delimiter: str, leading_blank: int
) -> tuple[list[str], pd.DataFrame, list[int]]:
    """Headers, the non-blank data rows and their spreadsheet row numbers. Read in slices,
    so a file with too many rows is refused as soon as that is known."""
    headers: list[str] | None = None
    parts: list[pd.DataFrame] = []
    row_numbers: list[int] = []
    try:
        # header=None: the header line fixes the column count, so a row with more values
        # than the header is an error, never silently shifted into an index or dropped.
        with pd.read_csv(
            io.StringIO(text),
            sep=delimiter,
            header=None,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            engine="c",
            chunksize=ROWS_PER_READ,
        ) as reader:
            for part in reader:
                part = part.fillna("").astype(object)
                if headers is None:
                    headers = _headers([str(cell) for cell in part.iloc[0]])
                    part = part.iloc[1:]
                part.columns = headers
                # Blank rows (every cell empty or spaces) are not contacts.
                part = part[part.apply(lambda column: column.str.strip() != "").any(axis=1)]
                # Spreadsheet numbering: the header line (index 0) is row 1.
                row_numbers.extend(int(index) + 1 + leading_blank for index in part.index)
                if len(row_numbers) > MAX_ROWS:
                    raise CsvImportError(
                        f"The file has more than {MAX_ROWS:,} contacts; you can import at "
                        f"most {MAX_ROWS:,} at a time. Split it into smaller files."
                    )
                parts.append(part)
    except pd.errors.EmptyDataError:
        raise CsvImportError("The file has no header row.") from None
    except pd.errors.ParserError as error:
        raise CsvImportError(_parser_message(str(error), leading_blank)) from None
    if headers is None:
        raise CsvImportError("The file has no header row.")
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=headers)
    return headers, frame, row_numbers


_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_LEADING_BLANK_LINES = re.compile(r"(?:[ \t\f\v]*(?:\r\n|\r|\n))+")


def _decode(data: bytes) -> tuple[str, str]:
    """UTF-16 (with a BOM), UTF-8 (with or without BOM), else Windows-1252, else Latin-1."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            pass
    if data.startswith(codecs.BOM_UTF8):
        try:
            return data.decode("utf-8-sig"), "utf-8-sig"
        except UnicodeDecodeError:
            pass
    for encoding in ("utf-8", "cp1252"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1"), "latin-1"


def _detect_delimiter(text: str) -> str:
    """csv.Sniffer on the first few KB, checked against the header line."""
    sample = text[:SNIFF_BYTES]
    if len(text) > SNIFF_BYTES and "\n" in sample:
        sample = sample[: sample.rindex("\n") + 1]  # whole lines only
    header_line = _LINE_BREAK.split(text, maxsplit=1)[0]
    counts = {d: _count_outside_quotes(header_line, d) for d in DELIMITERS}
    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        sniffed = None
    if sniffed in counts and (counts[sniffed] or not any(counts.values())):
        return sniffed
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _count_outside_quotes(line: str, delimiter: str) -> int:
    count, quoted = 0, False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif char == delimiter and not quoted:
            count += 1
    return count


def _headers(cells: list[str]) -> list[str]:
    headers = [cell.strip() for cell in cells]
    if not any(headers):
        raise CsvImportError("The file has no header row.")
    if _looks_like_data(headers):
        raise CsvImportError(
            "The first row should hold column names (such as Name, Email, Phone), "
            "but it looks like a contact. Add a header row and try again."
        )
    # A column without a name (e.g. after a trailing delimiter) gets one: "Column 3".
    named = [header or f"Column {position}" for position, header in enumerate(headers, 1)]
    seen: dict[str, int] = {}
    duplicates: list[str] = []
    for header in named:
        seen[header] = seen.get(header, 0) + 1
        if seen[header] == 2:
            duplicates.append(header)
    if duplicates:
        names = ", ".join(f"“{name}”" for name in duplicates)
        raise CsvImportError(
            f"Two columns have the same name ({names}). Rename one of them and try again."
        )
    return named


_EMAIL_LIKE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE_LIKE = re.compile(r"^\+?[\d\s().-]{7,}$")


def _looks_like_data(headers: list[str]) -> bool:
    return any(
        _EMAIL_LIKE.match(header) or (_PHONE_LIKE.match(header) and len(digits_only(header)) >= 7)
        for header in headers
    )


def _parser_message(message: str, leading_blank: int) -> str:
    fields = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", message)
    if fields:
        expected, line, saw = (int(value) for value in fields.groups())
        return (
            f"Row {line + leading_blank} has {saw} values but the header has {expected} "
            "columns. Check that values containing the delimiter are in quotes."
        )
    if "EOF inside string" in message:
        return 'The file ends inside a quoted value: a quote (") is not closed.'
    return "The file could not be read as CSV."
