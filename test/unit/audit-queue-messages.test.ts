import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { decodeNotificationKey, parseMessageBody } from '../../shared/events/audit-queue-messages.ts';
import { compareSequencers } from '../../shared/domain/sequencer.ts';

const sample = (name: string) => readFileSync(new URL(`../events/${name}`, import.meta.url), 'utf8');

describe('parseMessageBody', () => {
  test('an S3 event notification (as AWS sends it) becomes one request with the key decoded', () => {
    expect(parseMessageBody(sample('s3-notification.json'))).toEqual({
      kind: 'audit',
      requests: [
        {
          bucket: 'sseguard-demo',
          key: 'finance/payroll 2026.csv',
          sequencer: '0055AED6DCD90281E5',
          size: 12,
          etag: '0123456789abcdef0123456789abcdef',
          source: 's3-notification',
          // The record's awsRegion: the bucket's Region, stamped on the finding.
          region: 'us-east-1',
        },
      ],
    });
  });

  test("an S3 notification whose awsRegion is not a Region name is still audited, without a Region", () => {
    const event = JSON.parse(sample('s3-notification.json'));
    event.Records[0].awsRegion = 'not a region';
    const parsed = parseMessageBody(JSON.stringify(event));
    expect(parsed).toMatchObject({ kind: 'audit', requests: [{ key: 'finance/payroll 2026.csv' }] });
    expect(parsed.kind === 'audit' && parsed.requests[0]!.region).toBe(undefined);
  });

  test('an EventBridge "Object Created" event keeps its key as it is (EventBridge does not URL-encode)', () => {
    const parsed = parseMessageBody(sample('eventbridge-object-created.json'));
    expect(parsed).toMatchObject({ kind: 'audit', requests: [{ key: 'public/café/menü.txt', source: 'eventbridge', sequencer: '00617F08299329D189' }] });
  });

  test('a sweep page becomes one request per key, with its run and page', () => {
    expect(parseMessageBody(sample('sweep-page.json'))).toMatchObject({
      kind: 'audit',
      sweep: { runId: '2026-11-23T03:00:00.000Z', page: 0 },
      requests: [{ key: 'finance/2026-q1.csv', size: 24, source: 'sweep' }, { key: 'archive/2019.tar' }],
    });
  });

  test('a removal is audited as what is there now: the same request, without the removed version', () => {
    const event = JSON.parse(sample('s3-notification.json'));
    event.Records[0].eventName = 'ObjectRemoved:DeleteMarkerCreated';
    event.Records[0].s3.object.versionId = 'v-removed';
    const parsed = parseMessageBody(JSON.stringify(event));
    expect(parsed).toMatchObject({ kind: 'audit', requests: [{ key: 'finance/payroll 2026.csv', sequencer: '0055AED6DCD90281E5' }] });
    expect(parsed.kind === 'audit' && parsed.requests[0]).not.toHaveProperty('versionId');
    const bridged = parseMessageBody(sample('eventbridge-object-created.json').replace('"Object Created"', '"Object Deleted"'));
    expect(bridged).toMatchObject({ kind: 'audit', requests: [{ key: 'public/café/menü.txt', source: 'eventbridge' }] });
  });

  test('a permanent delete (ObjectRemoved:Delete; EventBridge "Permanently Deleted") names the removed version; a delete marker does not', () => {
    const event = JSON.parse(sample('s3-notification.json'));
    event.Records[0].eventName = 'ObjectRemoved:Delete';
    event.Records[0].s3.object.versionId = 'v-deleted';
    const parsed = parseMessageBody(JSON.stringify(event));
    expect(parsed).toMatchObject({ kind: 'audit', requests: [{ key: 'finance/payroll 2026.csv', removedVersionId: 'v-deleted' }] });
    expect(parsed.kind === 'audit' && parsed.requests[0]).not.toHaveProperty('versionId');
    event.Records[0].eventName = 'ObjectRemoved:DeleteMarkerCreated';
    const markerEvent = parseMessageBody(JSON.stringify(event));
    expect(markerEvent.kind === 'audit' && markerEvent.requests[0]).not.toHaveProperty('removedVersionId');

    const deleted = (deletionType: string) => {
      const bridged = JSON.parse(sample('eventbridge-object-created.json'));
      bridged['detail-type'] = 'Object Deleted';
      bridged.detail.object['version-id'] = 'v-deleted';
      bridged.detail['deletion-type'] = deletionType;
      return parseMessageBody(JSON.stringify(bridged));
    };
    expect(deleted('Permanently Deleted')).toMatchObject({ kind: 'audit', requests: [{ removedVersionId: 'v-deleted' }] });
    const marker = deleted('Delete Marker Created');
    expect(marker.kind === 'audit' && marker.requests[0]).not.toHaveProperty('removedVersionId');
  });

  // What SNS puts in an SQS message body (raw message delivery off).
  const snsBody = (message: string, drop: string[] = []) => {
    const body: Record<string, string> = {
      Type: 'Notification',
      MessageId: '95df01b4-ee98-5cb9-9903-4c221d41eb5e',
      TopicArn: 'arn:aws:sns:us-east-1:123456789012:sseguard-objects',
      Subject: 'Amazon S3 Notification',
      Message: message,
      Timestamp: '2026-11-23T10:15:31.117Z',
      SignatureVersion: '1',
      Signature: 'EXAMPLEpH+DcEwjAPg8O9mY8dReBSwksfg2S7WKQcikcNKWLQjwu6A4VbeS0QHVCkhRS7fUQvi2egU3N858fiTDN6bkkOxYDVrY0Ad8L10Hs3zH81mtnPk5uvvolIC1CXGu43obcgFxeL3khZl8IKvO61GWB6jI9b5+gLPoBc1Q=',
      SigningCertURL: 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0000000000000000000000.pem',
      UnsubscribeURL: 'https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:aws:sns:us-east-1:123456789012:sseguard-objects:1',
    };
    for (const field of drop) delete body[field];
    return JSON.stringify(body);
  };

  test('an S3 notification wrapped by SNS is unwrapped (Powertools SnsSqsNotificationSchema)', () => {
    expect(parseMessageBody(snsBody(sample('s3-notification.json')))).toMatchObject({ kind: 'audit', requests: [{ key: 'finance/payroll 2026.csv' }] });
  });

  test('an SNS notification without the fields SNS always sends is invalid, naming them', () => {
    const parsed = parseMessageBody(snsBody(sample('s3-notification.json'), ['Timestamp', 'TopicArn']));
    expect(parsed.kind).toBe('invalid');
    expect(parsed.kind === 'invalid' && parsed.reason).toMatch(/^SNS notification: .*TopicArn.*Timestamp|^SNS notification: .*Timestamp.*TopicArn/);
  });

  test('an EventBridge event needs the whole envelope EventBridge sends (Powertools EventBridgeSchema)', () => {
    const event = JSON.parse(sample('eventbridge-object-created.json'));
    delete event.time;
    delete event.account;
    const parsed = parseMessageBody(JSON.stringify(event));
    expect(parsed.kind).toBe('invalid');
    expect(parsed.kind === 'invalid' && parsed.reason).toMatch(/^EventBridge S3 event: .*account.*time/);
  });

  test('uploads over IPv6 are audited, from an S3 notification and from EventBridge', () => {
    const notification = JSON.parse(sample('s3-notification.json'));
    notification.Records[0].requestParameters = { sourceIPAddress: '2001:db8::15' };
    expect(parseMessageBody(JSON.stringify(notification))).toMatchObject({ kind: 'audit', requests: [{ key: 'finance/payroll 2026.csv' }] });
    const bridged = sample('eventbridge-object-created.json').replace('"203.0.113.15"', '"2001:db8::15"');
    expect(parseMessageBody(bridged)).toMatchObject({ kind: 'audit', requests: [{ key: 'public/café/menü.txt' }] });
  });

  test('version "null" (written while versioning was off) means no version id', () => {
    const event = JSON.parse(sample('s3-notification.json'));
    event.Records[0].s3.object.versionId = 'null';
    const parsed = parseMessageBody(JSON.stringify(event));
    expect(parsed.kind === 'audit' && parsed.requests[0]).not.toHaveProperty('versionId');
  });

  test('an inventory file message and a reconcile message are parsed as they were sent', () => {
    const file = {
      kind: 'inventory-file',
      bucket: 'src',
      destination: { bucket: 'dst', prefix: 'p' },
      manifestKey: 'p/src/c/2026-01-01T00-00Z/manifest.json',
      file: { key: 'p/src/c/data/a.csv.gz', size: 10, md5: '0'.repeat(32) },
    };
    expect(parseMessageBody(JSON.stringify(file))).toEqual({ kind: 'inventory-file', message: file });
    const { file: _file, ...rest } = file;
    const reconcile = { ...rest, kind: 'inventory-reconcile' };
    expect(parseMessageBody(JSON.stringify(reconcile))).toEqual({ kind: 'inventory-reconcile', message: reconcile });
  });

  test.each([
    ['s3:TestEvent', sample('s3-test-event.json'), 's3:TestEvent'],
    [
      'an ObjectTagging notification',
      sample('s3-notification.json').replace('ObjectCreated:Put', 'ObjectTagging:Put'),
      'not an ObjectCreated or ObjectRemoved event (ObjectTagging:Put)',
    ],
    [
      'an EventBridge Object Tags Added event',
      sample('eventbridge-object-created.json').replace('"Object Created"', '"Object Tags Added"'),
      'not an Object Created or Object Deleted event (Object Tags Added)',
    ],
  ])('%s is ignored with a reason', (_name, body, reason) => {
    expect(parseMessageBody(body)).toEqual({ kind: 'ignore', reason });
  });

  test.each([
    ['not JSON', 'hello', 'message body is not JSON'],
    ['an unknown shape', '{"foo": 1}', 'not an S3 notification, EventBridge S3 event, SNS notification, sweep, key re-evaluation, inventory or organization sweep message'],
    ['a notification with a bad bucket name', sample('s3-notification.json').replace('"name": "sseguard-demo"', '"name": "Bad_Bucket"'), 'Records.0.s3.bucket.name: not an S3 bucket name'],
    ['a notification whose key is not URL-encoded', sample('s3-notification.json').replace('payroll+2026.csv', '100%.csv'), 'key is not URL-encoded'],
    ['a sweep page with no objects', '{"kind":"sseguard.sweep","runId":"r","page":0,"bucket":"b-1","objects":[]}', 'sweep message: objects'],
    [
      'an inventory file message without its MD5',
      '{"kind":"inventory-file","bucket":"src","destination":{"bucket":"dst","prefix":"p"},"manifestKey":"p/src/c/2026-01-01T00-00Z/manifest.json","file":{"key":"p/src/c/data/a.csv.gz","size":1}}',
      'inventory file message: file.md5',
    ],
    ['an inventory reconcile message naming no manifest', '{"kind":"inventory-reconcile","bucket":"src","destination":{"bucket":"dst","prefix":""},"manifestKey":"x"}', 'inventory reconcile message: manifestKey'],
  ])('%s is invalid, with a reason the DLQ keeps', (_name, body, reason) => {
    const parsed = parseMessageBody(body);
    expect(parsed.kind).toBe('invalid');
    expect(parsed.kind === 'invalid' && parsed.reason).toContain(reason);
  });
});

test.each([
  ['a+b', 'a b'],
  ['a%2Bb', 'a+b'],
  ['100%25+done', '100% done'],
  ['caf%C3%A9%2Fmen%C3%BC', 'café/menü'],
  ['dir%2Fsub%2Ffile.txt', 'dir/sub/file.txt'],
])('notification key %s decodes to %s', (encoded, key) => {
  expect(decodeNotificationKey(encoded)).toBe(key);
});

test('sequencers compare as hex after right-padding the shorter with zeros (AWS rule)', () => {
  expect(compareSequencers('0055AED6DCD90281E5', '0055AED6DCD90281E6')).toBeLessThan(0);
  expect(compareSequencers('0055AED6DCD90281E5', '0055AED6DCD90281E500')).toBe(0);
  expect(compareSequencers('0055AED6DCD90281F', '0055AED6DCD90281E5')).toBeGreaterThan(0);
  expect(compareSequencers('00aa', '00AA')).toBe(0);
});
