// A key range's listed keys as SQL, executed for real: DuckDB runs the query Athena runs for the
// full reconciliation's key-range messages (shared/inventory/diff-query.ts rangeKeysQuery) over the
// very data files the emulator delivered, CSV gzip (keys form-encoded) and Parquet, and its answer
// equals what the streaming reconciliation keeps: the same keys, decoded alike, in the order
// key-ranges.ts compares them (UTF-8 bytes), each range bounded exactly as inRange bounds it.
import { randomBytes } from 'node:crypto';
import { PutBucketInventoryConfigurationCommand } from '@aws-sdk/client-s3';
import { describe, expect, test } from 'vitest';
import { deliverInventory } from '../../cli/commands/deliver-inventory.ts';
import { createAwsClients } from '../../shared/aws/clients.ts';
import { rangeKeysQuery } from '../../shared/inventory/diff-query.ts';
import { compareKeys, inRange, type KeyRange } from '../../shared/inventory/key-ranges.ts';
import { inventoryConfiguration } from '../../shared/inventory/setup.ts';
import { s3InventorySource } from '../../shared/inventory/source.ts';
import { createBucket, putObject } from '../support/aws-fixtures.ts';
import { duckAthenaCsv, duckReportRelation } from '../support/athena-diff-result.ts';

const clients = createAwsClients();

// '～' (U+FF5E) sorts before '😀' (U+1F600) by code point and by UTF-8 bytes, after it by UTF-16
// code units (a surrogate pair starts at U+D83D): the order every side must agree on.
const NAMES = ['plain', 'with space', 'a+b=c&d', 'a%2Bb', 'ünïcödé/€', 'Zebra', 'm', 'm/1', '～wide', '😀smile', 'z+last'];
const RANGES: KeyRange[] = [{}, { to: 'm' }, { from: 'm' }, { from: 'a+b', to: 'ünïcödé/€' }, { from: '～', to: '😀' }, { from: '😀' }];

describe('the key range query, run by DuckDB over delivered reports', () => {
  for (const format of ['CSV', 'Parquet'] as const) {
    test(`${format}: every range's keys are the streaming reconciliation's, decoded alike and in UTF-8 byte order`, async () => {
      const suffix = randomBytes(4).toString('hex');
      const source = `range-src-${suffix}`;
      const dest = `range-inv-${suffix}`;
      await createBucket(clients, source);
      await createBucket(clients, dest);
      await clients.s3.send(
        new PutBucketInventoryConfigurationCommand({ Bucket: source, Id: 'sseguard', InventoryConfiguration: inventoryConfiguration({ bucket: source, destinationBucket: dest, format }) }),
      );
      for (const name of NAMES) await putObject(clients, source, name, { mode: 'sse-s3' });
      await deliverInventory(process.env.AWS_ENDPOINT_URL!, { bucket: source, rowsPerFile: 4 });
      const inventory = s3InventorySource(clients.s3, { bucket: dest, prefix: '' });
      const report = await inventory.newest(source);
      expect(report.manifest.format).toBe(format);
      const relation = await duckReportRelation(clients.s3, report);
      const rows = [];
      for await (const row of inventory.allRows(report)) rows.push(row);
      expect(rows.map((r) => r.key).sort()).toEqual([...NAMES].sort());
      for (const range of RANGES) {
        const expected = [...new Set(rows.filter((r) => !r.isDeleteMarker && r.isLatest !== false && inRange(r.key, range)).map((r) => r.key))].sort(compareKeys);
        const { csv, rows: answer } = await duckAthenaCsv(rangeKeysQuery(relation, report.manifest.columns, format, range));
        expect(answer.map((r) => String(r[0])), JSON.stringify(range)).toEqual(expected);
        // Athena's result file: a "key" header, then one quoted key a line.
        expect(csv.split('\n')[0]).toBe('"key"');
      }
      // The whole order: UTF-8 bytes, so '～' before '😀' (UTF-16 would put it after).
      const all = (await duckAthenaCsv(rangeKeysQuery(relation, report.manifest.columns, format, {}))).rows.map((r) => String(r[0]));
      expect(all.indexOf('～wide')).toBeLessThan(all.indexOf('😀smile'));
      expect(all).toEqual([...NAMES].sort(compareKeys));
    }, 60_000);
  }
});
