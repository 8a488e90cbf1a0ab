// Reads the rows of one Parquet inventory data file by column name, a window of rows at a time
// (never more than one row group's column chunks, and WINDOW rows as objects): memory does not grow
// with the file. The file is read through an AsyncBuffer, so over S3 only the byte ranges hyparquet
// asks for are fetched.
import { gunzipSync } from 'node:zlib';
import { parquetMetadataAsync, parquetReadObjects, parquetSchema, type AsyncBuffer, type Compressors } from 'hyparquet';
import { requireColumns } from './csv-reader.ts';
import { InventoryError } from './errors.ts';
import { COLUMN_NAMES, rowFromCells, type Cells, type InventoryColumn, type InventoryRow } from './row.ts';

// hyparquet decodes SNAPPY itself; GZIP comes from node's zlib so no extra dependency is needed.
const COMPRESSORS: Compressors = { GZIP: (input) => new Uint8Array(gunzipSync(input)) };

// Rows materialised at once. Row groups can hold millions of rows; objects for all of them would cost
// hundreds of MB (measured: ~300 MB for 131,072 rows at once, bench/fleet-bench.ts).
const WINDOW = 16_384;

const BY_PARQUET_NAME = new Map<string, InventoryColumn>(Object.entries(COLUMN_NAMES).map(([csv, parquet]) => [parquet, csv as InventoryColumn]));

export async function* readParquetRows(file: AsyncBuffer, where: string): AsyncGenerator<InventoryRow> {
  let metadata;
  try {
    metadata = await parquetMetadataAsync(file);
  } catch (error) {
    throw new InventoryError('data-file-invalid', `${where} is not a Parquet file: ${(error as Error).message}`);
  }
  const names = parquetSchema(metadata).children.map((c) => c.element.name);
  requireColumns(names, where);
  const columns = names.filter((n) => BY_PARQUET_NAME.has(n));
  let groupStart = 0;
  for (const group of metadata.row_groups) {
    const groupEnd = groupStart + Number(group.num_rows);
    // Windows never straddle row groups: each read touches one group's column chunks.
    for (let rowStart = groupStart; rowStart < groupEnd; rowStart += WINDOW) {
      const rowEnd = Math.min(groupEnd, rowStart + WINDOW);
      let records;
      try {
        records = await parquetReadObjects({ file, metadata, columns, rowStart, rowEnd, compressors: COMPRESSORS });
      } catch (error) {
        throw new InventoryError('data-file-invalid', `${where} rows ${rowStart}-${rowEnd}: ${(error as Error).message}`);
      }
      for (const record of records) {
        const cells: Cells = {};
        for (const name of columns) cells[BY_PARQUET_NAME.get(name)!] = record[name] as Cells[InventoryColumn];
        yield rowFromCells(cells, false);
      }
    }
    groupStart = groupEnd;
  }
}
