// Streams the rows of one gzip CSV inventory data file. Bounded memory: bytes flow from the body
// through gunzip and the record splitter (csv-records.ts) one chunk at a time, and rows are yielded
// one by one (the consumer's pace is the stream's pace), so a 5 GB data file never sits in memory:
// at most one decompressed chunk and its records.
import { createHash } from 'node:crypto';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { StringDecoder } from 'node:string_decoder';
import { CsvRecordSplitter } from './csv-records.ts';
import { isTransientServiceError } from '../aws/errors.ts';
import { InventoryError } from './errors.ts';
import { COLUMN_NAMES, REQUIRED_COLUMNS, rowFromCells, type Cells, type InventoryColumn, type InventoryRow } from './row.ts';

export interface DataFileCheck {
  /** Where the file is, for messages. */
  where: string;
  /** MD5 hex of the file's bytes as stored (the manifest's MD5checksum); checked when the stream ends. */
  md5?: string;
}

/** Fails unless the report has the columns an encryption audit needs, naming what to add. */
export function requireColumns(present: readonly string[], where: string): void {
  const missing = REQUIRED_COLUMNS.filter((c) => !present.includes(c) && !present.includes(COLUMN_NAMES[c]));
  if (missing.length > 0) {
    throw new InventoryError(
      'schema-missing-column',
      `${where} has no ${missing.join(', ')} column: add ${missing.join(', ')} to the inventory configuration's optional fields (sseguard inventory setup does)`,
    );
  }
}

class Md5Tap extends Transform {
  readonly hash = createHash('md5');
  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    done(null, chunk);
  }
}

/** Rows of a gzip CSV data file whose columns are `columns` (the manifest's fileSchema), in file order. */
export async function* readCsvRows(body: AsyncIterable<Uint8Array>, columns: readonly string[], check: DataFileCheck): AsyncGenerator<InventoryRow> {
  requireColumns(columns, check.where);
  const known = new Set(Object.keys(COLUMN_NAMES));
  // Index of each known column; unknown columns (ACLs, owner, future fields) are skipped by name.
  const wanted = columns.map((c, i) => [c, i] as const).filter(([c]) => known.has(c)) as (readonly [InventoryColumn, number])[];
  const tap = new Md5Tap();
  // 64 KiB of text per chunk (zlib's default is 16 KiB): fewer awaits and carried partial records.
  const gunzip = createGunzip({ chunkSize: 1 << 16 });
  const flowing = pipeline(Readable.from(body), tap, gunzip);
  // A failed body or gunzip rejects `flowing` and ends the iteration below with the same error.
  flowing.catch(() => undefined);
  const decoder = new StringDecoder('utf8'); // a UTF-8 character cut between chunks stays whole
  const splitter = new CsvRecordSplitter();
  let line = 0;
  const rowOf = (record: string[]): InventoryRow => {
    line += 1;
    if (record.length !== columns.length) {
      throw new InventoryError('data-file-invalid', `${check.where} row ${line}: ${record.length} fields where fileSchema names ${columns.length}`);
    }
    const cells: Cells = {};
    for (const [column, index] of wanted) cells[column] = record[index];
    return rowFromCells(cells, true);
  };
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      for (const record of splitter.push(decoder.write(chunk))) yield rowOf(record);
    }
    for (const record of splitter.push(decoder.end())) yield rowOf(record);
    for (const record of splitter.end()) yield rowOf(record);
  } catch (error) {
    if (error instanceof InventoryError) throw error;
    // Weather while fetching the bytes (retries spent) says nothing about the file: it goes up as it is.
    if (isTransientServiceError(error) || isTransientServiceError((error as Error).cause)) throw error;
    throw new InventoryError('data-file-invalid', `${check.where} is not a gzip CSV inventory file: ${(error as Error).message}`);
  } finally {
    gunzip.destroy();
  }
  await flowing;
  if (check.md5 !== undefined) {
    const got = tap.hash.digest('hex');
    if (got !== check.md5.toLowerCase()) {
      throw new InventoryError('checksum-mismatch', `${check.where}: the manifest says MD5 ${check.md5}, the file hashes to ${got}`);
    }
  }
}
