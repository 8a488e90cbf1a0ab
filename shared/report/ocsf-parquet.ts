// OCSF Compliance Findings (ocsf.ts) as Parquet for an Amazon Security Lake custom source: one column
// per top-level OCSF attribute, objects as nested structs and arrays as lists, so the columns are the
// OCSF attributes Security Lake's Glue table names (not one JSON string). Written by
// `sseguard report --format ocsf-parquet --out …` with hyparquet-writer (pure JS, Snappy).
//
// Types follow the OCSF dictionary: integer_t → INT32, long_t and timestamp_t (epoch milliseconds) →
// INT64, string_t and its kinds → UTF8 strings, json_t (resources[].data) → a UTF8 string holding the
// JSON. Every column is optional: Parquet has no "absent", so an attribute an event leaves out reads
// back as null.
//
// Security Lake reads a custom source's objects under
//   ext/<source>/region=<region>/accountId=<account>/eventDay=<YYYYMMDD>/<file>.parquet
// securityLakePartition() names that folder for an event (its cloud.region, cloud.account.uid, and the
// UTC day of its `time`).
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import type { findingOcsf } from './ocsf.ts';

export type OcsfEvent = ReturnType<typeof findingOcsf>;

type Leaf = 'int' | 'long' | 'string' | 'json';
type Column = Leaf | { struct: Record<string, Column> } | { list: Column };

/** The columns of a Compliance Finding as ocsf.ts writes it (the test checks them against the OCSF dictionary). */
export const OCSF_PARQUET_COLUMNS: Record<string, Column> = {
  activity_id: 'int',
  activity_name: 'string',
  category_uid: 'int',
  category_name: 'string',
  class_uid: 'int',
  class_name: 'string',
  type_uid: 'long',
  severity_id: 'int',
  severity: 'string',
  time: 'long',
  metadata: { struct: { version: 'string', product: { struct: { name: 'string', vendor_name: 'string', version: 'string' } } } },
  finding_info: { struct: { uid: 'string', title: 'string', desc: 'string', first_seen_time: 'long', last_seen_time: 'long' } },
  compliance: { struct: { standards: { list: 'string' }, control: 'string', status_id: 'int', status: 'string', status_detail: 'string' } },
  status_id: 'int',
  status: 'string',
  cloud: { struct: { provider: 'string', region: 'string', account: { struct: { uid: 'string', type_id: 'int', type: 'string' } } } },
  resources: { list: { struct: { type: 'string', uid: 'string', name: 'string', region: 'string', data: 'json' } } },
};

interface SchemaElement {
  name: string;
  type?: 'INT32' | 'INT64' | 'BYTE_ARRAY';
  converted_type?: 'UTF8' | 'LIST';
  repetition_type?: 'OPTIONAL' | 'REPEATED';
  num_children?: number;
}

/** Depth-first Parquet schema elements for one column (lists in the standard three-level LIST form). */
function schemaElements(name: string, column: Column): SchemaElement[] {
  if (typeof column === 'string') {
    const physical = column === 'int' ? { type: 'INT32' as const } : column === 'long' ? { type: 'INT64' as const } : { type: 'BYTE_ARRAY' as const, converted_type: 'UTF8' as const };
    return [{ name, repetition_type: 'OPTIONAL', ...physical }];
  }
  if ('struct' in column) {
    const children = Object.entries(column.struct).flatMap(([child, c]) => schemaElements(child, c));
    return [{ name, repetition_type: 'OPTIONAL', num_children: Object.keys(column.struct).length }, ...children];
  }
  return [{ name, repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 }, { name: 'list', repetition_type: 'REPEATED', num_children: 1 }, ...schemaElements('element', column.list)];
}

/** A value shaped for its column: json_t as text, int64 as bigint, absent as null. */
function columnValue(value: unknown, column: Column): unknown {
  if (value === undefined || value === null) return null;
  if (column === 'json') return JSON.stringify(value);
  if (column === 'long') return BigInt(value as number);
  if (typeof column === 'string') return value;
  if ('struct' in column) {
    const record = value as Record<string, unknown>;
    return Object.fromEntries(Object.entries(column.struct).map(([name, c]) => [name, columnValue(record[name], c)]));
  }
  return (value as unknown[]).map((item) => columnValue(item, column.list));
}

type Sink = ConstructorParameters<typeof ParquetWriter>[0]['writer'];
const COLUMNS = Object.entries(OCSF_PARQUET_COLUMNS);
const SCHEMA = [{ name: 'root', num_children: COLUMNS.length }, ...COLUMNS.flatMap(([name, column]) => schemaElements(name, column))];

/** One Parquet file (Snappy) of Compliance Findings, written a row group per append(). */
export class OcsfParquetWriter {
  private readonly parquet: ParquetWriter;
  rows = 0;

  constructor(sink: Sink) {
    this.parquet = new ParquetWriter({ writer: sink, schema: SCHEMA, createdBy: 'sseguard' });
  }

  /** Writes these events as one row group. */
  append(events: readonly OcsfEvent[]): void {
    if (events.length === 0) return;
    const columnData = COLUMNS.map(([name, column]) => ({ name, data: events.map((event) => columnValue((event as Record<string, unknown>)[name], column)) }));
    void this.parquet.write({ columnData, rowGroupSize: events.length });
    this.rows += events.length;
  }

  finish(): void {
    this.parquet.finish();
  }
}

/** The Parquet file holding these events, one row each. */
export function ocsfParquet(events: readonly OcsfEvent[]): Uint8Array {
  const sink = new ByteWriter();
  const file = new OcsfParquetWriter(sink);
  file.append(events);
  file.finish();
  return new Uint8Array(sink.getBuffer());
}

/** The Security Lake partition folder of an event: `region=<r>/accountId=<id>/eventDay=<YYYYMMDD>`. */
export function securityLakePartition(event: OcsfEvent): string {
  const account = event.cloud.account?.uid;
  if (!account) throw new Error('an OCSF event without cloud.account.uid has no Security Lake partition: set SSEGUARD_ACCOUNT_ID');
  const day = new Date(event.time).toISOString().slice(0, 10).replaceAll('-', '');
  return `region=${event.cloud.region}/accountId=${account}/eventDay=${day}`;
}
