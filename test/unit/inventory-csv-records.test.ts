import { gzipSync } from 'node:zlib';
import { parse } from 'csv-parse/sync';
import { describe, expect, test } from 'vitest';
import { readCsvRows } from '../../shared/inventory/csv-reader.ts';
import { CsvRecordSplitter, CsvSyntaxError } from '../../shared/inventory/csv-records.ts';
import { InventoryError } from '../../shared/inventory/errors.ts';
import type { InventoryRow } from '../../shared/inventory/row.ts';

/** Every record of `text` fed to the splitter in pieces cut at `cuts`. */
function splitAt(text: string, cuts: number[]): string[][] {
  const splitter = new CsvRecordSplitter();
  const out: string[][] = [];
  let from = 0;
  for (const cut of [...cuts, text.length]) {
    out.push(...splitter.push(text.slice(from, cut)));
    from = cut;
  }
  out.push(...splitter.end());
  return out;
}

/** The same text cut at every single position, and in one piece: all must agree. */
function everyCut(text: string): string[][] {
  const whole = splitAt(text, []);
  for (let cut = 1; cut < text.length; cut++) expect(splitAt(text, [cut]), `cut at ${cut}`).toEqual(whole);
  return whole;
}

describe('CSV record splitter (RFC 4180), chunk boundaries anywhere', () => {
  test('quoted fields, "" for a quote, commas and newlines inside quotes, CRLF and LF, empty fields', () => {
    const text = '"b","a,b","say ""hi""",""\r\n"b","line\nbreak","",x\n\n"b","tail"';
    expect(everyCut(text)).toEqual([
      ['b', 'a,b', 'say "hi"', ''],
      ['b', 'line\nbreak', '', 'x'],
      ['b', 'tail'],
    ]);
  });

  test('unquoted fields and a trailing empty field', () => {
    expect(everyCut('a,b,\nc,,d\n')).toEqual([
      ['a', 'b', ''],
      ['c', '', 'd'],
    ]);
  });

  test('agrees with csv-parse on generated records cut into random chunks', () => {
    // Deterministic pseudo-random fields drawn from the characters that matter to CSV.
    let state = 7;
    const random = (n: number) => ((state = (state * 1103515245 + 12345) % 2 ** 31), state % n);
    const alphabet = ['a', 'Z', '0', ',', '"', '\n', '\r\n', ' ', '%2F', '+', 'é', '日'];
    const records: string[][] = Array.from({ length: 300 }, () =>
      Array.from({ length: 4 }, () => Array.from({ length: random(6) }, () => alphabet[random(alphabet.length)]).join('')),
    );
    const text = records.map((r) => r.map((f) => `"${f.replaceAll('"', '""')}"`).join(',')).join('\n') + '\n';
    const cuts = Array.from({ length: 40 }, () => random(text.length)).sort((a, b) => a - b);
    const expected = parse(text, { relax_column_count: false, skip_empty_lines: true }) as string[][];
    expect(splitAt(text, cuts)).toEqual(expected);
    expect(splitAt(text, cuts)).toEqual(records);
  });

  test('malformed input is an error, never a silently shifted row', () => {
    expect(() => splitAt('"a"b,c\n', [])).toThrow(CsvSyntaxError);
    expect(() => splitAt('a"b,c\n', [])).toThrow(CsvSyntaxError);
    expect(() => splitAt('"a,b\n', [])).toThrow(/never closed/);
    expect(() => splitAt('"a"\rb\n', [])).toThrow(CsvSyntaxError);
  });
});

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

async function rowsOf(text: string, columns: string[]): Promise<InventoryRow[]> {
  const rows: InventoryRow[] = [];
  for await (const row of readCsvRows(once(gzipSync(text)), columns, { where: 'f' })) rows.push(row);
  return rows;
}

describe('CSV reader over the splitter', () => {
  const columns = ['Bucket', 'Key', 'Size', 'EncryptionStatus', 'BucketKeyStatus', 'VersionId'];

  test('URL-encoded keys with commas, quotes and newlines decode to the object key; empty optional fields stay absent', async () => {
    // S3 Inventory URL-encodes keys in CSV; a key holding a quote or a comma arrives encoded, and a
    // report that quotes it raw must still parse by field.
    const rows = await rowsOf(
      [
        '"src","a%2C+b%22c%0Ad.txt","5","SSE-S3","",""',
        '"src","raw, ""quoted""\nkey","","NOT-SSE","DISABLED","v2"',
      ].join('\n') + '\n',
      columns,
    );
    expect(rows).toEqual([
      { bucket: 'src', key: 'a, b"c\nd.txt', size: 5, encryptionStatus: 'SSE-S3', isDeleteMarker: false },
      { bucket: 'src', key: 'raw, "quoted"\nkey', encryptionStatus: 'NOT-SSE', bucketKeyEnabled: false, versionId: 'v2', isDeleteMarker: false },
    ]);
  });

  test('a row with a field too many or too few names its row', async () => {
    const error = await rowsOf('"src","k","1","SSE-S3","",""\n"src","k2","1","SSE-S3",""\n', columns).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InventoryError);
    expect((error as InventoryError).message).toMatch(/row 2: 5 fields where fileSchema names 6/);
  });

  test('malformed quoting is data-file-invalid', async () => {
    const error = await rowsOf('"src","k"x,"1","SSE-S3","",""\n', columns).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InventoryError);
    expect((error as InventoryError).code).toBe('data-file-invalid');
  });
});

describe('CSV reader: weather while fetching is not a bad file', () => {
  test('a throttling error from the body goes up as it is, not as data-file-invalid', async () => {
    const throttled = Object.assign(new Error('Please reduce your request rate.'), { name: 'SlowDown', $metadata: { httpStatusCode: 503 } });
    async function* body(): AsyncGenerator<Uint8Array> {
      yield gzipSync('"src","k","1","SSE-S3","",""\n').subarray(0, 10);
      throw new Error('GetObject: still throttled or failing after 6 attempts', { cause: throttled });
    }
    const error = await (async () => {
      for await (const _ of readCsvRows(body(), ['Bucket', 'Key', 'Size', 'EncryptionStatus', 'BucketKeyStatus', 'VersionId'], { where: 'f' })) void _;
    })().catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(InventoryError);
    expect((error as Error).cause).toBe(throttled);
  });
});
