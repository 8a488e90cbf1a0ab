// Reads the rows of one Parquet inventory data file by column name, column-wise: the audit's columns
// of one row group (or of a window of a large one) are decoded into one array each, and rows are
// built straight from those arrays. Memory holds at most ROWS_AT_ONCE rows' column values, whatever
// the file's size. The file is read through an AsyncBuffer, so over S3 only the byte ranges
// hyparquet asks for are fetched.
import { gunzipSync } from 'node:zlib';
import { parquetMetadataAsync, parquetScan, parquetSchema, type AsyncBuffer, type Compressors, type DecodedArray } from 'hyparquet';
import { requireColumns } from './csv-reader.ts';
import { InventoryError } from './errors.ts';
import { COLUMN_NAMES, rowFromCells, type Cells, type InventoryColumn, type InventoryRow } from './row.ts';

// hyparquet decodes SNAPPY itself; GZIP comes from node's zlib so no extra dependency is needed.
const COMPRESSORS: Compressors = { GZIP: (input) => new Uint8Array(gunzipSync(input)) };

// Rows decoded at once. hyparquet decodes a column chunk's pages from the row group's start up to the
// window's end (without an offset index it cannot seek), so windows smaller than a row group decode
// its first pages again for each window: measured on 131,072-row groups (bench/fleet-bench.ts),
// 16,384-row windows parsed 173k rows/CPU-s, whole groups 302k, for ~35 MB more peak RSS (column
// values cost ~270 bytes a row; row objects, read before, cost ~2 KB). Groups up to this size are
// read whole; larger ones in windows of this size, which bounds memory at the price of re-decoding.
const ROWS_AT_ONCE = 262_144;

const BY_PARQUET_NAME = new Map<string, InventoryColumn>(Object.entries(COLUMN_NAMES).map(([csv, parquet]) => [parquet, csv as InventoryColumn]));

export async function* readParquetRows(file: AsyncBuffer, where: string, options: { rowsAtOnce?: number } = {}): AsyncGenerator<InventoryRow> {
  const rowsAtOnce = options.rowsAtOnce ?? ROWS_AT_ONCE;
  let metadata;
  try {
    metadata = await parquetMetadataAsync(file);
  } catch (error) {
    throw new InventoryError('data-file-invalid', `${where} is not a Parquet file: ${(error as Error).message}`);
  }
  const names = parquetSchema(metadata).children.map((c) => c.element.name);
  requireColumns(names, where);
  const columns = names.filter((n) => BY_PARQUET_NAME.has(n));
  // parquetScan reads one column of a row range at a time; with an offset index in the file only the
  // range's pages are fetched. Its ranges are the row groups (no pruning filter is given).
  const scan = await parquetScan({ file, metadata, columns, compressors: COMPRESSORS });
  const fields = columns.map((name) => BY_PARQUET_NAME.get(name)!);
  for (const range of scan.ranges) {
    const window = Math.min(range.rowEnd - range.rowStart, rowsAtOnce);
    for (let rowStart = range.rowStart; rowStart < range.rowEnd; rowStart += window) {
      const rowEnd = Math.min(range.rowEnd, rowStart + window);
      let values: DecodedArray[];
      try {
        values = await Promise.all(columns.map((column) => scan.readColumn({ column, rowStart, rowEnd })));
      } catch (error) {
        throw new InventoryError('data-file-invalid', `${where} rows ${rowStart}-${rowEnd}: ${(error as Error).message}`);
      }
      for (let i = 0; i < rowEnd - rowStart; i++) {
        const cells: Cells = {};
        for (let c = 0; c < fields.length; c++) cells[fields[c]!] = values[c]![i] as Cells[InventoryColumn];
        yield rowFromCells(cells, false);
      }
    }
  }
}
