// The function bundles as `npm run bundle` builds them (scripts/bundle.mjs): sizes and contents,
// which are deterministic; the cold-import time is reported by the script, never asserted here.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
// @ts-expect-error -- a plain .mjs script without type declarations
import { bundleFunction, FUNCTIONS, MAX_BYTES } from '../../scripts/bundle.mjs';

const root = join(import.meta.dirname, '..', '..');
const outdir = mkdtempSync(join(tmpdir(), 'sseguard-bundle-'));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

/** esbuild bundles a whole function per test: seconds when idle, far more on a loaded CI machine. */
const BUNDLE_TIMEOUT_MS = 120_000;

const built = new Map<string, { file: string; bytes: number; text: string }>();
beforeAll(async () => {
  for (const name of FUNCTIONS as string[]) {
    const { file, bytes } = (await bundleFunction(name, outdir)) as { file: string; bytes: number };
    built.set(name, { file, bytes, text: readFileSync(file, 'utf8') });
  }
}, FUNCTIONS.length * BUNDLE_TIMEOUT_MS);

/** Operation names the SDK writes into a bundle for each command it keeps. */
const present = (text: string, names: string[]) => names.filter((name) => text.includes(name));

describe('function bundles', () => {
  it.each(FUNCTIONS as string[])('%s bundles into one ESM file of at most 1 MiB', (name) => {
    const { bytes } = built.get(name)!;
    expect(MAX_BYTES).toBe(1024 * 1024);
    expect(bytes).toBeGreaterThan(100_000);
    expect(bytes).toBeLessThanOrEqual(MAX_BYTES);
  });

  it("no function carries zod's ahead-of-time compiler (z.compile): schemas parse on zod's runtime parser", () => {
    for (const [name, { text }] of built) expect(present(text, ['a schema whose subtree contains a reference cycle']), name).toEqual([]);
  });

  it('no function carries the SDK event-stream codec: no function sends S3 SelectObjectContent', () => {
    for (const [name, { text }] of built) expect(present(text, ['Truncated event message received', 'Unrecognizable event type']), name).toEqual([]);
  });

  it('no function carries a JMESPath interpreter: idempotency keys a fix by its whole identity', () => {
    for (const [name, { text }] of built) expect(present(text, ['LexerError', 'JMESPathTypeError']), name).toEqual([]);
  });

  // The stand-ins (scripts/function-stubs/) refuse what they leave out; this holds the code the
  // functions are built from to never asking for it, so a refusal cannot first show in Lambda.
  it('the functions\' sources never ask for what the bundles leave out: no JMESPath option, no event-stream operation, no z.compile', () => {
    const sources = ['functions', 'shared'].flatMap((dir) =>
      readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })
        .filter((file) => file.endsWith('.ts'))
        .map((file) => ({ file: `${dir}/${file}`, text: readFileSync(join(root, dir, file), 'utf8') })),
    );
    expect(sources.length).toBeGreaterThan(100);
    const asking = (pattern: RegExp) => sources.filter(({ text }) => pattern.test(text)).map(({ file }) => file);
    expect(asking(/eventKeyJmesPath|payloadValidationJmesPath|jmesPathOptions|@aws-lambda-powertools\/jmespath/)).toEqual([]);
    expect(asking(/SelectObjectContent|@smithy\/core\/event-streams/)).toEqual([]);
    expect(asking(/\bz\.compile\b|\bwithParser\b|['"]zod\/compile['"]/)).toEqual([]);
  });

  it('no function carries a YAML parser: policies reach Lambda as JSON', () => {
    for (const [name, { text }] of built) expect(present(text, ['YAMLMap', 'YAMLSeq', 'yaml-language-server']), name).toEqual([]);
  });

  it('no function carries semver: the X-Ray SDK asks it one question, answered by a stand-in (scripts/function-stubs/semver.mjs)', () => {
    for (const [name, { text }] of built) expect(present(text, ['SEMVER_SPEC_VERSION', 'Invalid Version']), name).toEqual([]);
  });

  it('the report API reaches no S3, KMS or SQS operation and no inspector (its role only reads the table)', () => {
    const { text } = built.get('report-api')!;
    expect(present(text, ['HeadObject', 'ListObjectsV2', 'CopyObject', 'UpdateObjectEncryption', 'DescribeKey', 'SendMessage', 'GetBucketEncryption'])).toEqual([]);
  });

  // Fails today, and so passes: createReportApi reads the counters through DynamoFindingsStore
  // (shared/findings/dynamodb-store.ts) and postures through PostureStore (posture-store.ts), whose
  // record paths bring TransactWriteCommand and PutCommand. Turn into `it` once one findings reader
  // module, separate from the write path, serves the API.
  it('the report API carries no write path: no PutItem, no TransactWriteItems', () => {
    const { text } = built.get('report-api')!;
    expect(present(text, ['TransactWriteItems', 'TransactWriteCommand', 'PutItem', 'UpdateItem', 'DeleteItem'])).toEqual([]);
  });

  it('the report API bundle serves the whole dashboard, its styles and script inlined (no file beside the bundle)', async () => {
    const { file, text } = built.get('report-api')!;
    expect(text).not.toContain('dashboard.css');
    const { handler } = (await import(pathToFileURL(file).href)) as { handler: (event: unknown, context: unknown) => Promise<{ statusCode: number; body: string }> };
    const event = { version: '2.0', rawPath: '/', rawQueryString: '', headers: {}, requestContext: { http: { method: 'GET', path: '/' } } };
    vi.stubEnv('SSEGUARD_API_TOKEN', 'bundle-test-token-0123456789abcdef0123');
    vi.stubEnv('AWS_REGION', 'us-east-1');
    try {
      const page = await handler(event, { functionName: 'ReportApi', awsRequestId: 'test', invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:ReportApi', getRemainingTimeInMillis: () => 1000 });
      expect(page.statusCode).toBe(200);
      expect(page.body).toMatch(/<style>\n:root\{--compliant:#2e7d32;/);
      expect(page.body).toMatch(/<script>\n.*"sseguard\.token"/s);
      expect(page.body).not.toMatch(/@ts-check|@typedef/);
    } finally {
      vi.unstubAllEnvs();
    }
  }, BUNDLE_TIMEOUT_MS);

  it('the bundled key-events handler still explains a bad event in English (zod locales left out)', async () => {
    const { file } = built.get('key-events')!;
    const { handler } = (await import(pathToFileURL(file).href)) as { handler: (event: unknown, context: unknown) => Promise<{ status: string; reason: string }> };
    const result = await handler({ source: 'aws.kms' }, { functionName: 'KeyEvents', awsRequestId: 'test', getRemainingTimeInMillis: () => 1000 });
    expect(result.status).toBe('invalid');
    expect(result.reason).toMatch(/detail-type: Invalid input: expected "AWS API Call via CloudTrail"/);
  }, BUNDLE_TIMEOUT_MS);
});
