// The Athena diff's result file, read in slices by byte offset (shared/audit/inventory-diff-sweep.ts).
// Pure: bytes in, rows out.
//
// Athena writes a SELECT's result as a CSV file at the output location, `<QueryExecutionId>.csv`:
// a header row of the column names, then one line per row, every value in double quotes ("" for a
// quote inside), NULL as an empty unquoted field, lines ended by LF. The diff query's columns are
// the new report's columns by their SQL names, then `sseguard_change` (diff-query.ts).
//
// Row boundaries without parsing: every field is quoted, so a line feed ends a record exactly when
// the quotes before it (since the record began) are even; a `""` inside a value is two quotes and
// keeps the parity. UTF-8 never puts 0x22 or 0x0A inside a multi-byte character. A slice starts
// at a boundary a previous slice found and ends at one, so each row belongs to one slice.
//
// A result row becomes the InventoryRow the report's own reader makes of the same object
// (row.ts rowFromCells), because the audit decides from it:
// | table over    | values in the result                                  | conversion                          |
// |---------------|-------------------------------------------------------|-------------------------------------|
// | CSV reports   | the report's own strings (OpenCSVSerde: all string)    | as the CSV reader: key URL-decoded   |
// | Parquet       | Athena's rendering: true/false, digits, `YYYY-MM-DD HH:MM:SS.fff` (UTC, no zone) | timestamps to ISO 8601 with milliseconds, as the Parquet reader's Date gives them; keys plain |
import { CsvRecordSplitter } from './csv-records.ts';
import { sqlColumnName } from './diff-query.ts';
import { InventoryError } from './errors.ts';
import { COLUMN_NAMES, rowFromCells, type Cells, type InventoryColumn, type InventoryRow } from './row.ts';

export const DIFF_CHANGE_COLUMN = 'sseguard_change';
export type DiffChange = 'added' | 'changed' | 'vanished';
const CHANGES: readonly string[] = ['added', 'changed', 'vanished'];

export interface DiffResultRow {
  change: DiffChange;
  row: InventoryRow;
}

/** The result's header, as the diff query over a report of `columns` (its manifest's fileSchema) writes it. */
export const diffResultColumns = (columns: readonly string[]): string[] => [...columns.map(sqlColumnName), DIFF_CHANGE_COLUMN];

const QUOTE = 0x22;
const LF = 0x0a;

/**
 * Finds record ends in a byte stream fed a chunk at a time: `end` is the offset (from the first
 * byte pushed) just past the last complete record's LF, `records` how many complete records lie
 * before it; it stops counting at `maxRecords`.
 */
export class RecordBoundaries {
  records = 0;
  end = 0;
  private quoted = false;
  private length = 0;
  constructor(private readonly maxRecords: number) {}

  get full(): boolean {
    return this.records >= this.maxRecords;
  }

  push(bytes: Uint8Array): void {
    for (let i = 0; i < bytes.length && !this.full; i++) {
      const byte = bytes[i];
      if (byte === QUOTE) this.quoted = !this.quoted;
      else if (byte === LF && !this.quoted) {
        this.records += 1;
        this.end = this.length + i + 1;
      }
    }
    this.length += bytes.length;
  }

  /** The stream ended: a last record without its LF counts too (`tail` is every byte after `end`). */
  finish(tail: Uint8Array): void {
    if (this.full || this.quoted) return;
    if (tail.some((b) => b !== LF && b !== 0x0d)) {
      this.records += 1;
      this.end = this.length;
    }
  }
}

/** The records of a byte range that recordBoundaries delimited (whole records only). */
export function recordsOf(bytes: Uint8Array, where: string): string[][] {
  const splitter = new CsvRecordSplitter();
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return [...splitter.push(text), ...splitter.end()];
  } catch (error) {
    throw new InventoryError('data-file-invalid', `${where} is not Athena's CSV: ${(error as Error).message}`);
  }
}

const BY_SQL_NAME = new Map<string, InventoryColumn>(Object.entries(COLUMN_NAMES).map(([csv, sql]) => [sql, csv as InventoryColumn]));
// Parquet columns Athena renders as a timestamp (diff-query.ts declares them so).
const TIMESTAMP_COLUMNS: ReadonlySet<InventoryColumn> = new Set(['LastModifiedDate', 'ObjectLockRetainUntilDate']);

/** Athena's timestamp text as the ISO 8601 the Parquet reader gives for the same value (Date.toISOString). */
function isoFromAthena(value: string, where: string): string {
  const match = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(\.\d+)?$/.exec(value);
  if (!match) throw new InventoryError('data-file-invalid', `${where}: ${JSON.stringify(value)} is not an Athena timestamp`);
  const time = Date.parse(`${match[1]}T${match[2]}${(match[3] ?? '').slice(0, 4)}Z`);
  if (Number.isNaN(time)) throw new InventoryError('data-file-invalid', `${where}: ${JSON.stringify(value)} is not a timestamp`);
  return new Date(time).toISOString();
}

/** Checks the header Athena wrote against the one the diff query asked for. */
export function checkDiffHeader(header: string[], expected: readonly string[], where: string): void {
  if (header.length !== expected.length || header.some((name, i) => name !== expected[i])) {
    throw new InventoryError('schema-missing-column', `${where}: the diff result's columns are ${header.join(',')}, the diff query asked for ${expected.join(',')}`);
  }
}

/** One result record as the row the report's reader would make, with the diff's verdict on it. */
export function diffRowFromRecord(record: string[], header: readonly string[], format: 'CSV' | 'Parquet', where: string): DiffResultRow {
  if (record.length !== header.length) throw new InventoryError('data-file-invalid', `${where}: ${record.length} fields where the header names ${header.length}`);
  const cells: Cells = {};
  let change: string | undefined;
  for (let i = 0; i < header.length; i++) {
    const name = header[i]!;
    const value = record[i]!;
    if (name === DIFF_CHANGE_COLUMN) {
      change = value;
      continue;
    }
    const column = BY_SQL_NAME.get(name);
    if (!column) continue;
    // NULL (empty) stays empty: rowFromCells reads '' as absent, as it does for the report's own empty cells.
    cells[column] = format === 'Parquet' && value !== '' && TIMESTAMP_COLUMNS.has(column) ? isoFromAthena(value, where) : value;
  }
  if (change === undefined || !CHANGES.includes(change)) throw new InventoryError('data-file-invalid', `${where}: ${DIFF_CHANGE_COLUMN} ${JSON.stringify(change)} is not added, changed or vanished`);
  try {
    return { change: change as DiffChange, row: rowFromCells(cells, format === 'CSV') };
  } catch (error) {
    throw new InventoryError('data-file-invalid', `${where}: ${(error as Error).message}`);
  }
}
