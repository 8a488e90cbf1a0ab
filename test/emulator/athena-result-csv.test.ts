// patches/athena_result_csv.py: the result file at the output location is the CSV Athena writes
// (header line, values quoted, quotes doubled, NULL an empty unquoted field).
import { GetQueryExecutionCommand, StartQueryExecutionCommand } from '@aws-sdk/client-athena';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { expect, inject, test } from 'vitest';
import { createAthenaClient } from '../../shared/metadata/athena-client.ts';
import { newBucket, s3 } from './helpers.ts';

const emulator = inject('emulatorEndpoint');
const athena = createAthenaClient();

test('a query result file quotes every value, doubles a quote inside one and leaves a NULL empty', async () => {
  const bucket = await newBucket('athena-out');
  const rows = [
    { Data: [{ VarCharValue: 'key' }, { VarCharValue: 'kms_key_arn' }] },
    { Data: [{ VarCharValue: 'a "b", c' }, {}] },
  ];
  const queued = await fetch(`${emulator}/moto-api/static/athena/query-results`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ region: process.env.AWS_REGION ?? 'us-east-1', results: [{ rows, column_info: [] }] }),
  });
  expect(queued.status).toBe(201);
  const { QueryExecutionId } = await athena.send(
    new StartQueryExecutionCommand({ QueryString: 'SELECT key, kms_key_arn FROM t', WorkGroup: 'primary', ResultConfiguration: { OutputLocation: `s3://${bucket}/results/` } }),
  );
  let state: string | undefined;
  let output: string | undefined;
  for (let i = 0; i < 10 && state !== 'SUCCEEDED'; i++) {
    const { QueryExecution } = await athena.send(new GetQueryExecutionCommand({ QueryExecutionId }));
    state = QueryExecution?.Status?.State;
    output = QueryExecution?.ResultConfiguration?.OutputLocation;
  }
  expect(state).toBe('SUCCEEDED');
  expect(output).toBe(`s3://${bucket}/results/${QueryExecutionId}.csv`);
  const file = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `results/${QueryExecutionId}.csv` }));
  expect(await file.Body!.transformToString()).toBe('"key","kms_key_arn"\n"a ""b"", c",\n');
});
