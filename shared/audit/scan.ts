// Scans a bucket (or a prefix of it): lists its keys page by page, audits each object with bounded,
// adaptive concurrency, and records the findings in batches. Memory stays flat in the number of
// objects: at most one listing page is prefetched, and findings leave as soon as they are recorded.
//
// Throttling is weather, not a verdict: an object whose audit (or fix) failed transiently is tried
// again later in the same run, with backoff, while the concurrency backs off (AIMD). When its tries
// or the run's retry budget end, it is reported as not audited this run and its recorded finding
// stays as it was.
import { randomUUID } from 'node:crypto';
import type { EncryptionMode } from '../domain/encryption.ts';
import { deletedObjectFinding, type Finding } from '../domain/finding.ts';
import type { Verdict } from '../domain/verdict.ts';
import type { FindingsStore, RecordResult, ScanRun } from '../findings/store.ts';
import type { ListedObject, ObjectLister } from '../inspect/object-inspector.ts';
import { AdaptiveLimit, DEFAULT_DEFER_POLICY, deferDelayMs, type DeferPolicy } from './adaptive-concurrency.ts';
import type { AuditDependencies } from './audit-object.ts';
import { auditAfterRecordedVersionGone, auditThenFix, isTransient, type Remediator } from './audit-batch.ts';
import { BatchRecorder } from './batch-recorder.ts';

export interface ScanDependencies extends AuditDependencies {
  lister: ObjectLister;
  store?: FindingsStore;
  /** Fixes objects the policy says to fix; absent: report only. */
  remediator?: Remediator;
}

export interface ScanOptions {
  bucket: string;
  prefix?: string;
  concurrency: number;
  /** Called for every finding, in completion order (the CLI streams JSON from here). */
  onFinding?: (finding: Finding) => void | Promise<void>;
  /** Called for every object not audited this run (its last transient finding says why). */
  onNotAudited?: (finding: Finding) => void | Promise<void>;
  onProgress?: (progress: { listed: number; audited: number }) => void;
  defer?: Partial<DeferPolicy>;
  /** Audit every version (ListObjectVersions), not only current objects; noncurrent ones are counted apart. */
  allVersions?: boolean;
  /** Once aborted (Ctrl-C), no new object is taken: audits and fixes in flight finish, the rest is counted not audited. */
  stop?: AbortSignal;
  /** The bucket's account and Region: stamped on every finding and on the run record. */
  origin?: { account: string; region: string };
}

export interface KeyExposure {
  objects: number;
  bytes: number;
  verdicts: Partial<Record<Verdict, number>>;
  /** Noncurrent versions under the key (with allVersions): still exposure if the key goes. */
  noncurrent?: { objects: number; bytes: number };
}

export interface ScanResult extends ScanRun {
  bytes: number;
  modes: Partial<Record<EncryptionMode | 'unknown', number>>;
  /** Objects and bytes per KMS key: the blast radius if that key becomes unusable. */
  kmsKeys: Record<string, KeyExposure>;
  /** Objects that could not be audited this run (throttled, failing, timed out): their findings were kept. */
  notAudited: number;
  /** Audits tried again after a transient failure. */
  retries: number;
  /** Noncurrent versions audited (allVersions), apart from the objects: an SSE-C or unencrypted one is still exposure. */
  noncurrent?: { objects: number; bytes: number; verdicts: Partial<Record<Verdict, number>> };
  /** Objects whose current version is a delete marker (allVersions): removed from the findings. */
  deleted?: number;
  /** The run was stopped (`stop`) before its end; objects not yet listed are not counted anywhere. */
  interrupted?: { listingFinished: boolean };
}

/** Flattens pages into objects, fetching the next page while the current one is audited. */
async function* prefetchingObjects(pages: AsyncIterable<ListedObject[]>, onPage: (size: number) => void) {
  const iterator = pages[Symbol.asyncIterator]();
  let pending = iterator.next();
  for (;;) {
    const page = await pending;
    if (page.done) return;
    pending = iterator.next();
    // Marks a listing failure as handled until it is awaited after this page.
    pending.catch(() => undefined);
    onPage(page.value.length);
    yield* page.value;
  }
}

interface Work {
  listed: ListedObject;
  attempt: number;
  notBefore: number;
  /** Audit again because the store could not order this audit against the recorded one. */
  confirm?: boolean;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function scanBucket(deps: ScanDependencies, options: ScanOptions): Promise<ScanResult> {
  if (!Number.isInteger(options.concurrency) || options.concurrency < 1) {
    throw new RangeError(`concurrency must be a whole number ≥ 1, got ${options.concurrency}`);
  }
  const policy: DeferPolicy = { ...DEFAULT_DEFER_POLICY, ...options.defer };
  const clock = deps.clock ?? (() => new Date());
  const result = emptyScanResult(randomUUID(), options, clock());
  let listed = 0;
  if (options.allVersions && !deps.lister.versionPages) throw new Error('this lister cannot list object versions');
  const listing = options.allVersions ? deps.lister.versionPages!(options.bucket, options.prefix) : deps.lister.pages(options.bucket, options.prefix);
  const objects = prefetchingObjects(listing, (size) => {
    listed += size;
  });
  const deferred: Work[] = [];
  const rechecks: NonNullable<RecordResult['recheck']> = [];
  const recorder = deps.store
    ? new BatchRecorder(
        deps.store,
        undefined,
        undefined,
        (undecided) => {
          // Counted as audited already: take them out again, the fresh audit counts them once.
          for (const finding of undecided) untally(finding);
          deferred.push(...undecided.map((f) => ({ listed: { key: f.key, size: f.size }, attempt: 1, notBefore: 0, confirm: true })));
        },
        (found) => void rechecks.push(...found),
      )
    : undefined;
  const limit = new AdaptiveLimit({ max: options.concurrency });
  let failure: { error: unknown } | undefined;
  let listingDone = false;
  let working = 0;
  /** Listed objects handed to a worker (the rest of a page is left when the run is stopped). */
  let taken = 0;

  const count = (finding: Finding, sign: 1 | -1) => countFinding(result, finding, sign);
  const stamped = (finding: Finding): Finding => stampOrigin(finding, options.origin);
  const untally = (finding: Finding) => count(finding, -1);

  /** The next object to audit: a deferred one that is due, else the next listed one, else wait. */
  const nextWork = async (): Promise<Work | undefined> => {
    for (;;) {
      if (failure || options.stop?.aborted) return undefined;
      const now = Date.now();
      const due = deferred.findIndex((work) => work.notBefore <= now);
      if (due >= 0) return deferred.splice(due, 1)[0];
      if (!listingDone) {
        const next = await objects.next();
        if (!next.done) {
          taken += 1;
          return { listed: next.value, attempt: 1, notBefore: 0 };
        }
        listingDone = true;
        continue;
      }
      if (deferred.length === 0 && working === 0) return undefined;
      // Something is still in flight (and may be deferred) or waiting for its backoff.
      const soonest = Math.min(...deferred.map((work) => work.notBefore), now + 50);
      await sleep(Math.max(5, soonest - now));
    }
  };

  const budgetLeft = () => policy.budgetBase + policy.budgetPerObject * listed - result.retries;

  const audit = async (work: Work): Promise<void> => {
    if (work.listed.deleteMarker) {
      limit.release('ok');
      // The current version is a delete marker: the object is gone; a noncurrent marker is no object.
      if (work.listed.isLatest) {
        result.deleted = (result.deleted ?? 0) + 1;
        await recorder?.add(stamped(deletedObjectFinding(options.bucket, work.listed.key, clock())));
      }
      return;
    }
    const exact = options.allVersions && work.listed.versionId ? { exactVersion: true } : {};
    const finding = stamped(await auditThenFix(deps, options.bucket, work.listed, {}, { ...(work.confirm ? { confirmedCurrent: true } : {}), ...exact }));
    if (isTransient(finding)) {
      const beingFixedElsewhere = finding.remediation?.outcome === 'skipped-being-fixed-elsewhere';
      if (work.attempt < policy.attemptsPerObject && budgetLeft() > 0) {
        result.retries += 1;
        deferred.push({ ...work, attempt: work.attempt + 1, notBefore: Date.now() + deferDelayMs(work.attempt, policy) });
        limit.release(beingFixedElsewhere ? 'ok' : 'throttled');
        return;
      }
      // Out of tries. Another process fixing the object is no doubt about the verdict: record it.
      if (!beingFixedElsewhere) {
        limit.release('throttled');
        result.notAudited += 1;
        await options.onNotAudited?.(finding);
        return;
      }
    }
    limit.release('ok');
    count(finding, 1);
    await options.onFinding?.(finding);
    await recorder?.add(finding);
    options.onProgress?.({ listed, audited: result.objects });
  };

  const worker = async () => {
    for (;;) {
      const work = await nextWork();
      if (!work) return;
      working += 1;
      try {
        await limit.acquire();
        await audit(work);
      } finally {
        working -= 1;
      }
    }
  };
  const guarded = async () => {
    try {
      await worker();
    } catch (error) {
      failure ??= { error };
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, guarded));
  if (failure) throw failure.error;

  await recorder?.flush();
  const left = deferred.length + (listed - taken);
  // Stopped with work left (a stop after the last object was taken interrupted nothing): what was
  // deferred, re-queued or listed but not taken is not audited this run.
  if (options.stop?.aborted && (left > 0 || !listingDone)) {
    result.notAudited += left;
    deferred.length = 0;
    result.interrupted = { listingFinished: listingDone };
  }
  // Findings the store could not order were re-queued by the last flush: audit them now.
  if (deferred.length > 0) {
    const { findings: again, notAudited } = await scanDeferred(deps, options, deferred.splice(0), recorder);
    for (const finding of again) count(finding, 1);
    result.notAudited += notAudited;
    await recorder?.flush();
  }
  // Stale audits whose recorded version may be gone (deleted permanently): the audit counted in
  // this run stands; what a recheck finds is only recorded. Its own record asks for no more rechecks.
  if (rechecks.length > 0 && recorder) {
    for (const recheck of rechecks.splice(0)) {
      const finding = await auditAfterRecordedVersionGone(deps, options.bucket, recheck);
      if (finding && !isTransient(finding)) await recorder.add(finding);
    }
    await recorder.flush();
  }
  await finishScan(deps, result, clock);
  return result;
}

/** The finding with the bucket's account and Region on it (as every finding of a multi-account run). */
export function stampOrigin(finding: Finding, origin: ScanOptions['origin']): Finding {
  return origin ? { ...finding, account: origin.account, region: origin.region } : finding;
}

export function emptyScanResult(id: string, options: Pick<ScanOptions, 'bucket' | 'prefix' | 'origin'>, startedAt: Date): ScanResult {
  return {
    id,
    ...(options.origin ? { account: options.origin.account, region: options.origin.region } : {}),
    bucket: options.bucket,
    prefix: options.prefix ?? '',
    startedAt: startedAt.toISOString(),
    finishedAt: '',
    objects: 0,
    bytes: 0,
    verdicts: {},
    modes: {},
    kmsKeys: {},
    notAudited: 0,
    retries: 0,
  };
}

/** Adds (or with -1 takes out) one finding's share of the run's tally. */
export function countFinding(result: ScanResult, finding: Finding, sign: 1 | -1): void {
  if (finding.isLatest === false) {
    const noncurrent = (result.noncurrent ??= { objects: 0, bytes: 0, verdicts: {} });
    noncurrent.objects += sign;
    noncurrent.bytes += sign * finding.size;
    noncurrent.verdicts[finding.verdict] = (noncurrent.verdicts[finding.verdict] ?? 0) + sign;
    if (finding.kmsKeyArn) {
      const exposure = (result.kmsKeys[finding.kmsKeyArn] ??= { objects: 0, bytes: 0, verdicts: {} });
      const apart = (exposure.noncurrent ??= { objects: 0, bytes: 0 });
      apart.objects += sign;
      apart.bytes += sign * finding.size;
    }
    return;
  }
  result.objects += sign;
  result.bytes += sign * finding.size;
  result.verdicts[finding.verdict] = (result.verdicts[finding.verdict] ?? 0) + sign;
  const mode = finding.mode ?? 'unknown';
  result.modes[mode] = (result.modes[mode] ?? 0) + sign;
  if (finding.kmsKeyArn) {
    const exposure = (result.kmsKeys[finding.kmsKeyArn] ??= { objects: 0, bytes: 0, verdicts: {} });
    exposure.objects += sign;
    exposure.bytes += sign * finding.size;
    exposure.verdicts[finding.verdict] = (exposure.verdicts[finding.verdict] ?? 0) + sign;
  }
}

/** Ends a run: the keys' facts and the run record, which is what proves the bucket was covered. */
export async function finishScan(deps: Pick<ScanDependencies, 'store' | 'keys'>, result: ScanResult, clock: () => Date, unchangedListed = 0): Promise<void> {
  result.finishedAt = clock().toISOString();
  // Nothing audited, nothing left unaudited, nothing listed unchanged since a verified report: the
  // listing was empty (a typo'd prefix looks the same).
  if (result.objects === 0 && (result.noncurrent?.objects ?? 0) === 0 && result.notAudited === 0 && unchangedListed === 0) result.empty = true;
  if (!deps.store) return;
  // Every key was looked up during the audit: these come from the cache, not from KMS.
  const keys = await Promise.all(Object.keys(result.kmsKeys).map((arn) => deps.keys.lookup(arn)));
  await deps.store.recordKeys(keys, clock());
  const { bytes: _bytes, modes: _modes, kmsKeys: _keys, ...run } = result;
  await deps.store.recordScan(run);
}

/** The last few objects the store sent back undecided: audited afresh, each once more. */
async function scanDeferred(
  deps: ScanDependencies,
  options: ScanOptions,
  work: Work[],
  recorder: BatchRecorder | undefined,
): Promise<{ findings: Finding[]; notAudited: number }> {
  const findings: Finding[] = [];
  let notAudited = 0;
  for (const item of work) {
    const finding = stampOrigin(await auditThenFix(deps, options.bucket, item.listed, {}, { confirmedCurrent: true }), options.origin);
    if (isTransient(finding)) {
      notAudited += 1;
      await options.onNotAudited?.(finding);
      continue;
    }
    findings.push(finding);
    await options.onFinding?.(finding);
    await recorder?.add(finding);
  }
  return { findings, notAudited };
}
