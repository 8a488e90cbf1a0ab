// Splits CSV text (RFC 4180: comma-separated, fields optionally in double quotes, "" for a quote
// inside a quoted field, commas and newlines allowed inside quotes, records ended by LF or CRLF) into
// records, a chunk at a time: a record cut by a chunk boundary is carried into the next chunk.
//
// Why not csv-parse, which the reader used before: it walks the input a byte at a time and checks
// its options at every byte; on this machine it parsed 120-150k inventory rows per CPU-second on
// already-decompressed text (bench/fleet-bench.ts, `--only fleet`), leaving nothing for gunzip and
// row decoding under the 100k rows/s per core target. This splitter jumps from quote to quote with
// indexOf (S3 Inventory quotes every field) and hands back a chunk's records at once, so the caller
// pays one await per chunk, not per row. It does no casting and no trimming: fields are the strings
// between the delimiters. Malformed input (a quote inside an unquoted field, text after a closing
// quote, a quote never closed) is an error, as csv-parse's defaults made it.

export class CsvSyntaxError extends Error {}

const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;
const CR = 0x0d;

export class CsvRecordSplitter {
  private carry = '';
  /** Records completed so far (1-based line numbers in messages count records, as csv-parse's did). */
  private records = 0;

  /** The complete records in `carry + text`; an unfinished last record waits for more text. */
  push(text: string): string[][] {
    return this.split(this.carry + text, false);
  }

  /** The last record, if the text ended without a newline; throws if it ends inside quotes. */
  end(): string[][] {
    const rest = this.carry;
    this.carry = '';
    return rest === '' ? [] : this.split(rest, true);
  }

  private split(text: string, final: boolean): string[][] {
    const out: string[][] = [];
    const length = text.length;
    let recordStart = 0;
    let i = 0;
    let fields: string[] = [];
    // One pass; `i` is always at the start of a field.
    while (i < length) {
      let value: string;
      let next: number; // index just past the field's content (a delimiter, or the end)
      if (i < length && text.charCodeAt(i) === QUOTE) {
        let close = text.indexOf('"', i + 1);
        let escaped = false;
        while (close !== -1 && close + 1 < length && text.charCodeAt(close + 1) === QUOTE) {
          escaped = true;
          close = text.indexOf('"', close + 2);
        }
        if (close === -1 || (close + 1 === length && !final)) {
          // The closing quote, or what follows it, is in the next chunk.
          if (final) throw new CsvSyntaxError(`record ${this.records + 1}: a quoted field is never closed`);
          break;
        }
        value = text.slice(i + 1, close);
        if (escaped) value = value.replaceAll('""', '"');
        next = close + 1;
        const after = next < length ? text.charCodeAt(next) : -1;
        if (after === CR && next + 1 === length && !final) break; // its LF may be in the next chunk
        const endsLine = after === LF || after === -1 || (after === CR && text.charCodeAt(next + 1) === LF);
        if (after !== COMMA && !endsLine) throw new CsvSyntaxError(`record ${this.records + 1}: text after a closing quote`);
      } else {
        next = i;
        while (next < length) {
          const c = text.charCodeAt(next);
          if (c === COMMA || c === LF || (c === CR && next + 1 < length && text.charCodeAt(next + 1) === LF)) break;
          if (c === CR && next + 1 === length && !final) break; // a CRLF cut between chunks
          if (c === QUOTE) throw new CsvSyntaxError(`record ${this.records + 1}: a quote inside an unquoted field`);
          next += 1;
        }
        if (next === length && !final) break;
        value = text.slice(i, next);
      }
      fields.push(value);
      const c = next < length ? text.charCodeAt(next) : -1;
      if (c === COMMA) {
        i = next + 1;
        if (i === length && final) {
          fields.push('');
          this.finish(fields, out);
          fields = [];
          recordStart = i;
          break;
        }
        continue;
      }
      if (c === CR) {
        if (next + 1 === length && !final) break; // its LF may be in the next chunk
        i = next + 2;
      } else {
        i = next + 1; // LF, or past the end of the final text
      }
      this.finish(fields, out);
      fields = [];
      recordStart = Math.min(i, length);
      // Empty lines are skipped.
      while (recordStart < length && text.charCodeAt(recordStart) === LF) recordStart += 1;
      while (recordStart + 1 < length && text.charCodeAt(recordStart) === CR && text.charCodeAt(recordStart + 1) === LF) {
        recordStart += 2;
        while (recordStart < length && text.charCodeAt(recordStart) === LF) recordStart += 1;
      }
      i = recordStart;
    }
    this.carry = final ? '' : text.slice(recordStart);
    return out;
  }

  private finish(fields: string[], out: string[][]): void {
    // A line holding nothing (already skipped above, except a lone one at the very start) is no record.
    if (fields.length === 1 && fields[0] === '') return;
    this.records += 1;
    out.push(fields);
  }
}
