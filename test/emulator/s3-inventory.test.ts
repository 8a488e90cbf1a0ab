import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import {
  DeleteBucketInventoryConfigurationCommand,
  DeleteObjectCommand,
  GetBucketInventoryConfigurationCommand,
  GetObjectCommand,
  ListBucketInventoryConfigurationsCommand,
  ListObjectsV2Command,
  PutBucketInventoryConfigurationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type InventoryConfiguration,
} from '@aws-sdk/client-s3';
import { parquetReadObjects } from 'hyparquet';
import { describe, expect, test } from 'vitest';
import { deliverInventory } from '../../cli/commands/deliver-inventory.ts';
import { awsError, customerKey, newBucket, newKmsKey, s3 } from './helpers.ts';

const endpoint = () => process.env.AWS_ENDPOINT_URL!;
const FIELDS = ['Size', 'LastModifiedDate', 'ETag', 'StorageClass', 'EncryptionStatus', 'BucketKeyStatus', 'IsMultipartUploaded'] as const;

function config(Id: string, destination: string, extra: Partial<InventoryConfiguration> = {}): InventoryConfiguration {
  return {
    Id,
    IsEnabled: true,
    IncludedObjectVersions: 'Current',
    Schedule: { Frequency: 'Daily' },
    Destination: { S3BucketDestination: { Bucket: `arn:aws:s3:::${destination}`, Format: 'CSV', Prefix: 'inv' } },
    OptionalFields: [...FIELDS],
    ...extra,
  };
}

async function bytes(Bucket: string, Key: string): Promise<Buffer> {
  const got = await s3.send(new GetObjectCommand({ Bucket, Key }));
  return Buffer.from(await got.Body!.transformToByteArray());
}

/** CSV rows of a gzip data file as objects keyed by the manifest's fileSchema column names. */
function csvRows(gz: Buffer, schema: string): Record<string, string>[] {
  const columns = schema.split(',').map((c) => c.trim());
  return gunzipSync(gz)
    .toString('utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const cells = line.slice(1, -1).split('","');
      return Object.fromEntries(columns.map((c, i) => [c, cells[i]!]));
    });
}

describe('inventory configurations are kept as sent', () => {
  test('Get and List return IncludedObjectVersions and the optional fields as put; Delete removes the configuration', async () => {
    const Bucket = await newBucket();
    const dest = await newBucket('d');
    await s3.send(new PutBucketInventoryConfigurationCommand({ Bucket, Id: 'audit', InventoryConfiguration: config('audit', dest) }));
    await s3.send(
      new PutBucketInventoryConfigurationCommand({
        Bucket,
        Id: 'one-field',
        InventoryConfiguration: config('one-field', dest, { OptionalFields: ['EncryptionStatus'], IncludedObjectVersions: 'All' }),
      }),
    );

    const got = await s3.send(new GetBucketInventoryConfigurationCommand({ Bucket, Id: 'audit' }));
    expect(got.InventoryConfiguration?.IncludedObjectVersions).toBe('Current');
    expect(got.InventoryConfiguration?.OptionalFields).toEqual([...FIELDS]);
    expect(got.InventoryConfiguration?.Destination?.S3BucketDestination?.Format).toBe('CSV');

    const listed = await s3.send(new ListBucketInventoryConfigurationsCommand({ Bucket }));
    const byId = Object.fromEntries((listed.InventoryConfigurationList ?? []).map((c) => [c.Id, c]));
    expect(byId['audit']?.OptionalFields).toEqual([...FIELDS]);
    expect(byId['one-field']?.OptionalFields).toEqual(['EncryptionStatus']);
    expect(byId['one-field']?.IncludedObjectVersions).toBe('All');

    const deleted = await s3.send(new DeleteBucketInventoryConfigurationCommand({ Bucket, Id: 'audit' }));
    expect(deleted.$metadata.httpStatusCode).toBe(204);
    const missing = await awsError(s3.send(new GetBucketInventoryConfigurationCommand({ Bucket, Id: 'audit' })));
    expect(missing.status).toBe(404);
  });
});

describe('deliver-inventory writes a report in the real layout', () => {
  test('CSV: manifest.json + manifest.checksum + gzip data + hive symlink; rows carry each object encryption, URL-encoded keys', async () => {
    const Bucket = await newBucket();
    const dest = await newBucket('d');
    const kmsKey = await newKmsKey();
    const ssec = customerKey();
    await s3.send(new PutObjectCommand({ Bucket, Key: 'plain/s3.txt', Body: 'a' }));
    await s3.send(
      new PutObjectCommand({ Bucket, Key: 'kms/with key.txt', Body: 'bb', ServerSideEncryption: 'aws:kms', SSEKMSKeyId: kmsKey.arn, BucketKeyEnabled: true }),
    );
    await s3.send(new PutObjectCommand({ Bucket, Key: 'dsse.txt', Body: 'ccc', ServerSideEncryption: 'aws:kms:dsse', SSEKMSKeyId: kmsKey.arn }));
    await s3.send(
      new PutObjectCommand({ Bucket, Key: 'ssec.txt', Body: 'dddd', SSECustomerAlgorithm: 'AES256', SSECustomerKey: ssec.key, SSECustomerKeyMD5: ssec.md5 }),
    );
    await s3.send(new PutBucketInventoryConfigurationCommand({ Bucket, Id: 'audit', InventoryConfiguration: config('audit', dest) }));

    const at = new Date('2026-11-30T01:02:00Z');
    const [delivery] = await deliverInventory(endpoint(), { bucket: Bucket, at });
    expect(delivery?.manifestKey).toBe(`inv/${Bucket}/audit/2026-11-30T01-02Z/manifest.json`);
    expect(delivery?.rows).toBe(4);

    const manifestBytes = await bytes(dest, delivery!.manifestKey);
    const checksum = (await bytes(dest, `inv/${Bucket}/audit/2026-11-30T01-02Z/manifest.checksum`)).toString('utf8').trim();
    expect(checksum).toBe(createHash('md5').update(manifestBytes).digest('hex'));
    const manifest = JSON.parse(manifestBytes.toString('utf8'));
    expect(manifest).toMatchObject({
      sourceBucket: Bucket,
      destinationBucket: `arn:aws:s3:::${dest}`,
      version: '2016-11-30',
      creationTimestamp: String(at.getTime()),
      fileFormat: 'CSV',
      fileSchema: 'Bucket, Key, Size, LastModifiedDate, ETag, StorageClass, IsMultipartUploaded, EncryptionStatus, BucketKeyStatus',
    });
    expect(manifest.files).toHaveLength(1);
    const file = manifest.files[0];
    expect(file.key).toMatch(new RegExp(`^inv/${Bucket}/audit/data/[0-9a-f-]+\\.csv\\.gz$`));
    const data = await bytes(dest, file.key);
    expect(file.size).toBe(data.length);
    expect(file.MD5checksum).toBe(createHash('md5').update(data).digest('hex'));

    const rows = csvRows(data, manifest.fileSchema);
    const byKey = Object.fromEntries(rows.map((r) => [r['Key'], r]));
    expect(Object.keys(byKey).sort()).toEqual(['dsse.txt', 'kms/with+key.txt', 'plain/s3.txt', 'ssec.txt']);
    expect(byKey['plain/s3.txt']).toMatchObject({ Bucket, Size: '1', EncryptionStatus: 'SSE-S3', BucketKeyStatus: 'DISABLED', StorageClass: 'STANDARD' });
    expect(byKey['kms/with+key.txt']).toMatchObject({ EncryptionStatus: 'SSE-KMS', BucketKeyStatus: 'ENABLED' });
    expect(byKey['dsse.txt']?.EncryptionStatus).toBe('DSSE-KMS');
    expect(byKey['ssec.txt']?.EncryptionStatus).toBe('SSE-C');
    expect(byKey['plain/s3.txt']?.ETag).toBe(createHash('md5').update('a').digest('hex'));
    expect(byKey['plain/s3.txt']?.LastModifiedDate).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

    const symlink = (await bytes(dest, `inv/${Bucket}/audit/hive/dt=2026-11-30-01-02/symlink.txt`)).toString('utf8');
    expect(symlink.trim().split('\n')).toEqual([`s3://${dest}/${file.key}`]);
  });

  test('Parquet: snake_case columns, keys not encoded, dates as timestamps; the schema is the Parquet message', async () => {
    const Bucket = await newBucket();
    const dest = await newBucket('d');
    await s3.send(new PutObjectCommand({ Bucket, Key: 'a b.txt', Body: 'xyz' }));
    await s3.send(
      new PutBucketInventoryConfigurationCommand({
        Bucket,
        Id: 'pq',
        InventoryConfiguration: config('pq', dest, { Destination: { S3BucketDestination: { Bucket: `arn:aws:s3:::${dest}`, Format: 'Parquet' } } }),
      }),
    );
    const [delivery] = await deliverInventory(endpoint(), { bucket: Bucket });
    expect(delivery?.manifestKey).toMatch(new RegExp(`^${Bucket}/pq/\\d{4}-\\d\\d-\\d\\dT\\d\\d-\\d\\dZ/manifest\\.json$`));
    const manifest = JSON.parse((await bytes(dest, delivery!.manifestKey)).toString('utf8'));
    expect(manifest.fileFormat).toBe('Parquet');
    expect(manifest.fileSchema).toMatch(/^message s3\.inventory \{ required binary bucket \(STRING\); required binary key \(STRING\); optional int64 size;/);
    expect(manifest.files[0].key).toMatch(/\.parquet$/);
    const data = await bytes(dest, manifest.files[0].key);
    const rows = await parquetReadObjects({ file: data.buffer.slice(data.byteOffset, data.byteOffset + data.length) as ArrayBuffer });
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ bucket: Bucket, key: 'a b.txt', size: 3n, encryption_status: 'SSE-S3', bucket_key_status: 'DISABLED' });
    expect(rows[0]!['last_modified_date']).toBeInstanceOf(Date);
  });

  test('IncludedObjectVersions All lists every version and delete marker, newest first; Current leaves deleted objects out', async () => {
    const Bucket = await newBucket();
    const dest = await newBucket('d');
    await s3.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'v1' }));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'k', Body: 'v2' }));
    await s3.send(new PutObjectCommand({ Bucket, Key: 'gone', Body: 'x' }));
    await s3.send(new DeleteObjectCommand({ Bucket, Key: 'gone' }));
    await s3.send(new PutBucketInventoryConfigurationCommand({ Bucket, Id: 'all', InventoryConfiguration: config('all', dest, { IncludedObjectVersions: 'All' }) }));
    await s3.send(new PutBucketInventoryConfigurationCommand({ Bucket, Id: 'cur', InventoryConfiguration: config('cur', dest) }));

    const deliveries = await deliverInventory(endpoint(), { bucket: Bucket });
    const all = deliveries.find((d) => d.configId === 'all')!;
    const cur = deliveries.find((d) => d.configId === 'cur')!;
    const manifest = JSON.parse((await bytes(dest, all.manifestKey)).toString('utf8'));
    expect(manifest.fileSchema.startsWith('Bucket, Key, VersionId, IsLatest, IsDeleteMarker, Size')).toBe(true);
    const rows = csvRows(await bytes(dest, manifest.files[0].key), manifest.fileSchema);
    expect(rows.map((r) => [r['Key'], r['IsLatest'], r['IsDeleteMarker'], r['Size']])).toEqual([
      ['gone', 'true', 'true', ''],
      ['gone', 'false', 'false', '1'],
      ['k', 'true', 'false', '2'],
      ['k', 'false', 'false', '2'],
    ]);
    expect(rows.every((r) => (r['VersionId'] ?? '').length > 0)).toBe(true);
    expect(cur.rows).toBe(1);
  });

  test('rowsPerFile splits the report into several data files, all listed in the manifest and the symlink', async () => {
    const Bucket = await newBucket();
    const dest = await newBucket('d');
    for (const Key of ['a', 'b', 'c', 'd', 'e']) await s3.send(new PutObjectCommand({ Bucket, Key, Body: Key }));
    await s3.send(new PutBucketInventoryConfigurationCommand({ Bucket, Id: 'audit', InventoryConfiguration: config('audit', dest) }));
    const [delivery] = await deliverInventory(endpoint(), { bucket: Bucket, rowsPerFile: 2 });
    expect(delivery?.dataKeys).toHaveLength(3);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: dest, Prefix: `inv/${Bucket}/audit/data/` }));
    expect(listed.KeyCount).toBe(3);
  });

  test('an ORC configuration is refused with a message; a bucket without configurations answers 404', async () => {
    const Bucket = await newBucket();
    const dest = await newBucket('d');
    await expect(deliverInventory(endpoint(), { bucket: Bucket })).rejects.toThrow(/no enabled inventory configuration/);
    await s3.send(
      new PutBucketInventoryConfigurationCommand({
        Bucket,
        Id: 'orc',
        InventoryConfiguration: config('orc', dest, { Destination: { S3BucketDestination: { Bucket: `arn:aws:s3:::${dest}`, Format: 'ORC' } } }),
      }),
    );
    await expect(deliverInventory(endpoint(), { bucket: Bucket })).rejects.toThrow(/CSV and Parquet.*not ORC/);
  });
});
