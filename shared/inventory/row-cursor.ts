// One reading of one data file, handed out a slice of rows at a time: the audit worker audits a
// data file in slices (a checkpoint after each) without opening the file again per slice. The file
// is read from its first byte (a gzip stream cannot be entered in the middle); rows before `skip`
// (audited by an earlier message) are parsed and passed over, never audited. A file read to its
// end has its MD5 checked by the reader as before.
import type { InventoryDataFile } from './manifest.ts';
import type { InventoryRow } from './row.ts';
import type { InventoryReport, InventorySource } from './source.ts';

export interface RowCursor {
  /** Rows of the file read so far, skipped ones included: where the next slice starts. */
  readonly position: number;
  /** The file has no row after `position`. */
  readonly exhausted: boolean;
  /** The key of the first row this cursor handed out (a sample of the file's keys). */
  readonly firstKey: string | undefined;
  /** A source whose rows(report, file) are this file's next `rows` rows (at most), read on demand. */
  slice(rows: number): InventorySource;
}

export async function rowCursor(source: InventorySource, report: InventoryReport, file: InventoryDataFile, skip: number): Promise<RowCursor> {
  const iterator = source.rows(report, file)[Symbol.asyncIterator]();
  let position = 0;
  // One row read ahead, so `exhausted` is known as soon as a slice ends on the file's last row.
  let ahead = await iterator.next();
  while (position < skip && !ahead.done) {
    position += 1;
    ahead = await iterator.next();
  }
  let firstKey: string | undefined;
  const next = async (): Promise<InventoryRow | undefined> => {
    if (ahead.done) return undefined;
    const row = ahead.value;
    firstKey ??= row.key;
    position += 1;
    ahead = await iterator.next();
    return row;
  };
  return {
    get position() {
      return position;
    },
    get exhausted() {
      return ahead.done === true;
    },
    get firstKey() {
      return firstKey;
    },
    slice(rows) {
      return {
        newest: () => Promise.resolve(report),
        at: () => Promise.resolve(report),
        async *rows() {
          for (let taken = 0; taken < rows; taken++) {
            const row = await next();
            if (row === undefined) return;
            yield row;
          }
        },
        allRows: () => {
          throw new Error('a row cursor reads one data file');
        },
      };
    },
  };
}
