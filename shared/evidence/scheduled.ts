// The scheduled evidence pack (functions/evidence-pack.ts): once a month, the pack as of the end of
// the month before, written to the user's evidence bucket — which may have S3 Object Lock — so that
// packs are kept where nobody, sseguard included, can change them.
//
// Layout under <prefix>/<YYYY-MM>/ (the month the pack is as of):
//   <run>/…            the pack's files (report.html, evidence.json, CSVs, manifest.json, manifest.sig…)
//   SEALED.json        written last: which run is the month's pack, its manifest's SHA-256
// Every PutObject is conditional (If-None-Match: *): nothing is ever overwritten. The function's
// role can only put objects there (no read, no list), so a rerun of a month cannot look first: it
// writes its own run folder and its seal meets 412 — the month keeps its first sealed pack and the
// rerun says `already-sealed` (a rerun's unsealed folder is not the month's pack). A crash before
// the seal leaves an unsealed folder; the next run seals its own.
//
// Object Lock: S3 refuses a PutObject into a bucket with Object Lock (default retention included)
// that carries neither Content-MD5 nor an x-amz-checksum-* header. Each file is put with its SHA-256
// (x-amz-checksum-sha256): the one the manifest lists, which S3 checks and keeps with the object.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { retrying } from '../aws/retry.ts';
import { MANIFEST, SIGNATURE, type Manifest } from './integrity.ts';
import type { EvidenceOptions } from './pack.ts';

/** Where scheduled packs go: SSEGUARD_EVIDENCE_BUCKET = bucket[/prefix] (prefix default sseguard-evidence). */
export interface EvidenceDestination {
  bucket: string;
  prefix: string;
}

const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
export const DEFAULT_EVIDENCE_PREFIX = 'sseguard-evidence';
export const SEAL = 'SEALED.json';
const DAY_MS = 86_400_000;
const PUT_RETRY = { attempts: 5, baseMs: 200, capMs: 5_000 };

/** Parses `bucket[/prefix]` (an s3:// prefix allowed); throws with the setting's name when invalid. */
export function evidenceDestination(value: string, setting = 'SSEGUARD_EVIDENCE_BUCKET'): EvidenceDestination {
  const [bucket = '', ...rest] = value.trim().replace(/^s3:\/\//, '').split('/');
  if (!BUCKET_NAME.test(bucket)) throw new Error(`${setting}: "${bucket}" is not a bucket name (bucket[/prefix])`);
  return { bucket, prefix: rest.join('/').replace(/^\/+|\/+$/g, '') || DEFAULT_EVIDENCE_PREFIX };
}

/** The month a run at `now` seals: the calendar month before (UTC), as of its last millisecond. */
export function monthBefore(now: Date): { month: string; asOf: Date; from: Date } {
  const startOfThisMonth = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
  const asOf = new Date(startOfThisMonth - 1);
  const from = new Date(Date.UTC(asOf.getUTCFullYear(), asOf.getUTCMonth(), 1));
  return { month: asOf.toISOString().slice(0, 7), asOf, from };
}

export interface ScheduledPackDependencies {
  s3: S3Client;
  destination: EvidenceDestination;
  /** Writes the pack as of `options.asOf` into `dir` (shared/evidence/produce.ts) and returns its manifest. */
  produce: (dir: string, options: EvidenceOptions) => Promise<Manifest>;
  clock?: () => Date;
}

export interface ScheduledPackResult {
  status: 'sealed' | 'already-sealed';
  month: string;
  asOf: string;
  /** s3://bucket/prefix/<month>/<run>/ written by this run. */
  folder: string;
  files: number;
}

/** The S3 checksum header value of a SHA-256 given in hex (the manifest's). */
const base64Sha256 = (hex: string): string => Buffer.from(hex, 'hex').toString('base64');

/**
 * One conditional put. 412 means the key exists: for a key of this run's own folder only a retry of
 * a put whose answer was lost can meet it (the object is ours); for the seal, the month is sealed.
 */
async function putOnce(s3: S3Client, bucket: string, key: string, file: string, sha256Hex: string, bytes: number): Promise<'written' | 'exists'> {
  try {
    await retrying(`S3 PutObject ${key}`, () =>
      s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          // A fresh stream per attempt: a retried request re-reads the file.
          Body: createReadStream(file),
          ContentLength: bytes,
          ChecksumAlgorithm: 'SHA256',
          ChecksumSHA256: base64Sha256(sha256Hex),
          IfNoneMatch: '*',
        }),
      ),
    PUT_RETRY);
    return 'written';
  } catch (error) {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if ((error as Error).name === 'PreconditionFailed' || status === 412) return 'exists';
    throw error;
  }
}

const sha256Of = async (file: string) => createHash('sha256').update(await readFile(file)).digest('hex');

export async function sealMonthlyPack(deps: ScheduledPackDependencies, windowDays?: number): Promise<ScheduledPackResult> {
  const now = (deps.clock ?? (() => new Date()))();
  const { month, asOf, from } = monthBefore(now);
  const run = now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
  const base = `${deps.destination.prefix}/${month}`;
  const folder = `${base}/${run}`;
  const dir = await mkdtemp(join(tmpdir(), 'sseguard-evidence-'));
  try {
    const options: EvidenceOptions = {
      asOf,
      reconstructed: true,
      // The month, unless a longer window is configured.
      windowDays: windowDays ?? Math.round((asOf.getTime() + 1 - from.getTime()) / DAY_MS),
      scope: {},
      generatedAt: now,
    };
    const manifest = await deps.produce(dir, options);
    // The files the manifest lists, then the manifest and its signature: a pack missing a file is never sealed.
    const extra = [MANIFEST, ...(manifest.signing ? [SIGNATURE] : [])];
    const uploads = [
      ...manifest.files.map((f) => ({ name: f.name, sha256: f.sha256, bytes: f.bytes })),
      ...(await Promise.all(extra.map(async (name) => ({ name, sha256: await sha256Of(join(dir, name)), bytes: (await stat(join(dir, name))).size })))),
    ];
    for (const file of uploads) await putOnce(deps.s3, deps.destination.bucket, `${folder}/${file.name}`, join(dir, file.name), file.sha256, file.bytes);
    const manifestSha256 = uploads.find((u) => u.name === MANIFEST)!.sha256;
    const seal = `${JSON.stringify({ month, asOf: asOf.toISOString(), pack: `${folder}/`, manifestSha256, signed: Boolean(manifest.signing), ...(manifest.signing ? { keyId: manifest.signing.keyId } : {}), sealedAt: now.toISOString() }, null, 2)}\n`;
    const sealFile = join(dir, SEAL);
    await writeFile(sealFile, seal);
    const sealed = await putOnce(deps.s3, deps.destination.bucket, `${base}/${SEAL}`, sealFile, createHash('sha256').update(seal).digest('hex'), Buffer.byteLength(seal));
    return { status: sealed === 'written' ? 'sealed' : 'already-sealed', month, asOf: asOf.toISOString(), folder: `s3://${deps.destination.bucket}/${folder}/`, files: uploads.length };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
