// One slice of an Athena result file (`<QueryExecutionId>.csv`: a header row, every value
// double-quoted): from a row boundary, at most a given number of rows, by ranged GETs, so a message
// reading it is bounded by its rows, not by the file. Used by the diff's slices
// (inventory-diff-sweep.ts) and by a key range's listed keys (inventory-file-audit.ts).
import { RecordBoundaries, recordsOf } from '../inventory/diff-result.ts';
import { InventoryError } from '../inventory/errors.ts';

export interface AthenaResultFile {
  bucket: string;
  key: string;
}

/** The result file's bytes from byte `from` on (ranged GETs, retried per range). */
export type ResultBytes = (result: AthenaResultFile, from: number) => AsyncIterable<Uint8Array>;

/** Rows of the result from `fromByte`: at most `rows` (plus the header at byte 0), where they end, and whether the file ends there. */
export async function readResultSlice(resultBytes: ResultBytes, result: AthenaResultFile, fromByte: number, rows: number): Promise<{ records: string[][]; to: number; last: boolean }> {
  const header = fromByte === 0 ? 1 : 0;
  const boundaries = new RecordBoundaries(rows + header);
  const chunks: Uint8Array[] = [];
  let eof = true;
  for await (const chunk of resultBytes(result, fromByte)) {
    chunks.push(chunk);
    boundaries.push(chunk);
    if (boundaries.full) {
      eof = false;
      break;
    }
  }
  const bytes = Buffer.concat(chunks);
  if (eof) boundaries.finish(bytes.subarray(boundaries.end));
  const where = `s3://${result.bucket}/${result.key} from byte ${fromByte}`;
  if (boundaries.records === 0 && bytes.length > 0) throw new InventoryError('data-file-invalid', `${where}: no complete row`);
  const to = fromByte + boundaries.end;
  // The file ends here when its bytes ran out and every byte was a row (a blank tail is none).
  const last = eof && (boundaries.end === bytes.length || bytes.subarray(boundaries.end).every((b) => b === 0x0a || b === 0x0d));
  return { records: recordsOf(bytes.subarray(0, boundaries.end), where), to, last };
}
