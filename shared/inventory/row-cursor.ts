// One reading of one data file, handed out a slice of rows at a time: the audit worker audits a
// data file in slices (a checkpoint after each) without opening the file again per slice. The file
// is read from its first byte (a gzip stream cannot be entered in the middle); rows before `skip`
// (audited by an earlier message) are parsed and passed over, never audited. A file read to its
// end has its MD5 checked by the reader as before.
import type { InventoryDataFile } from './manifest.ts';
import type { InventoryRow } from './row.ts';
import type { InventoryReport, InventorySource } from './source.ts';

/** Keys sampled per cursor (one message): small enough that a checkpoint item stays far below DynamoDB's 400 KB with 1 KB keys. */
const SAMPLE_KEYS = 4;

/** FNV-1a over the key's UTF-16 code units: cheap, and spread enough to pick a sample. */
function keyHash(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193) >>> 0;
  return hash;
}

export interface RowCursor {
  /** Rows of the file read so far, skipped ones included: where the next slice starts. */
  readonly position: number;
  /** The file has no row after `position`. */
  readonly exhausted: boolean;
  /**
   * A sample of the keys this cursor handed out, whatever the file's order: the few whose hash is
   * smallest (a bottom-k sample is uniform over the keys; the first key of each slice is not when a
   * file's order is not the keys' order).
   */
  readonly sampleKeys: string[];
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
  const sample: { key: string; hash: number }[] = [];
  const next = async (): Promise<InventoryRow | undefined> => {
    if (ahead.done) return undefined;
    const row = ahead.value;
    const hash = keyHash(row.key);
    if (sample.length < SAMPLE_KEYS || hash < sample.at(-1)!.hash) {
      sample.push({ key: row.key, hash });
      sample.sort((a, b) => a.hash - b.hash);
      if (sample.length > SAMPLE_KEYS) sample.pop();
    }
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
    get sampleKeys() {
      return sample.map((s) => s.key);
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
