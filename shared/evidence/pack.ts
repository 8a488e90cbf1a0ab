// The evidence pack's content: from every item of every object in the findings table (states,
// history, noncurrent versions) it computes, as of a point in time, the population, the coverage of
// each bucket in scope, the exceptions, the keys, the changes in the window and the state of the
// history chains. Pure but for what it is given: the CLI and the report API gather the inputs.
// One object at a time (EvidenceAccumulator): a pack of any size is computed in bounded memory.
import { createHash } from 'node:crypto';
import type { KeyLookup } from '../domain/encryption.ts';
import type { Exemption } from '../domain/policy-model.ts';
import { inScope } from '../domain/policy-match.ts';
import { VERDICTS, type Verdict } from '../domain/verdict.ts';
import { checkChain, type StoredHistoryEntry } from '../findings/history-chain.ts';
import type { Item } from '../findings/reader.ts';
import type { KeyAction, StoredFinding } from '../findings/store.ts';
import { CONTROL_MAPPING, CONTROL_MAPPING_REVIEWED, type ControlRow } from './controls.ts';
import { keyFactFields } from '../report/overview.ts';

/** A bucket not audited whole for this long is stale in the coverage section. */
export const STALE_AFTER_DAYS = 7;
const DAY_MS = 86_400_000;

/** Everything the table holds about one object. */
export interface ObjectRecords {
  bucket: string;
  key: string;
  state?: StoredFinding;
  history: StoredHistoryEntry[];
  versions: StoredFinding[];
}

/** Groups the table's object items (any order) by object. */
export function groupObjectItems(items: Iterable<Item>, into = new Map<string, ObjectRecords>()): Map<string, ObjectRecords> {
  for (const item of items) {
    const pk = String(item.pk);
    const id = pk.slice(4);
    const slash = id.indexOf('/');
    const record = into.get(id) ?? { bucket: id.slice(0, slash), key: id.slice(slash + 1), history: [], versions: [] };
    into.set(id, record);
    const { pk: _pk, ...rest } = item;
    const sk = String(item.sk);
    if (sk === 'STATE') record.state = stripIndexKeys(rest) as unknown as StoredFinding;
    else if (sk.startsWith('HIST#')) record.history.push(rest as unknown as StoredHistoryEntry);
    else if (sk.startsWith('VERSION#')) record.versions.push(stripIndexKeys(rest) as unknown as StoredFinding);
  }
  return into;
}

function stripIndexKeys(item: Item): Item {
  const { sk: _sk, verdictPk: _a, verdictSk: _b, bucketPk: _c, bucketSk: _d, kmsKeyPk: _e, kmsKeySk: _f, ...rest } = item;
  return rest;
}

/** What the pack needs besides the objects: small, read whole. */
export interface EvidenceContext {
  /** Buckets that exist now (ListBuckets), when known: a bucket never audited is a gap. */
  existingBuckets?: string[];
  keyFacts: Record<string, KeyLookup & { checkedAt: string }>;
  keyActions: KeyAction[];
  /** Whole-bucket scan and sweep runs: bucket → finish times. */
  wholeBucketRuns: Map<string, string[]>;
  exemptions: Exemption[];
}

/** Everything in memory: the context and every object's records (the report API, tests). */
export interface EvidenceInputs extends EvidenceContext {
  objects: Map<string, ObjectRecords>;
}

export interface EvidenceScope {
  buckets?: string[];
  accounts?: string[];
  /** Every account recorded in the findings table (--org): grouped by account. */
  org?: boolean;
}

export interface EvidenceOptions {
  asOf: Date;
  /** Whether --as-of was given: the population is then reconstructed from history. */
  reconstructed: boolean;
  windowDays: number;
  scope: EvidenceScope;
  generatedAt: Date;
}

/** One object of the population as of the time. */
export interface PopulationObject {
  bucket: string;
  key: string;
  account?: string;
  versionId?: string;
  etag?: string;
  verdict: Verdict;
  mode?: string;
  kmsKeyArn?: string;
  /** Undefined when the history entry predates sizes and the version is not the current one. */
  size?: number;
  reasons: { code: string; message: string }[];
  auditedAt: string;
  evidence: string;
}

export interface Tally {
  objects: number;
  bytes: number;
  /** Objects whose size is not known as of the time (their bytes are not in `bytes`). */
  unsized?: number;
}

export interface Population {
  objects: number;
  bytes: number;
  unsized: number;
  byVerdict: Record<string, Tally>;
  byMode: Record<string, Tally>;
  byKmsKey: Record<string, Tally>;
  byBucket: Record<string, Tally & { verdicts: Record<string, number> }>;
  byAccount: Record<string, Tally & { verdicts?: Record<string, number> }>;
  noncurrent: {
    objects: number;
    bytes: number;
    verdicts: Record<string, number>;
    /** As of a time: noncurrent versions whose last audit is after it (their verdict then is not on record). */
    recordedAfterAsOf?: { objects: number; verdicts: Record<string, number> };
    note: string;
  };
  /** Objects recorded now whose history starts after the as-of time: unknown then, not guessed. */
  unknownAsOf: { objects: number; examples: string[] };
}

export interface CoverageRow {
  bucket: string;
  /** The account its objects were recorded in (when findings carry one). */
  account?: string;
  status: 'never' | 'stale' | 'current';
  objects: number;
  lastAudited: string | null;
  lastWholeBucketRun: string | null;
  ageDays: number | null;
  tiers: Record<string, number>;
}

export interface AccountCoverage {
  account: string;
  buckets: number;
  never: number;
  stale: number;
  current: number;
  objects: number;
}

export interface ExemptionRow {
  bucket: string;
  prefix: string;
  owner: string;
  reason: string;
  expires: string;
  expired: boolean;
  coveredObjects: number;
  covered: string[];
}

export interface KeyRow {
  arn: string;
  status: string;
  state?: string;
  manager?: string;
  rotationEnabled?: boolean;
  deletionDate?: string;
  checkedAt?: string;
  objects: number;
  bytes: number;
}

export interface FixChange {
  bucket: string;
  key: string;
  at: string;
  action: string;
  outcome: string;
  before: unknown;
  after?: unknown;
  beforeVersionId?: string;
  afterVersionId?: string;
  batchJobId?: string;
}

export interface VerdictChange {
  bucket: string;
  key: string;
  at: string;
  from?: string;
  to: string;
  removed: boolean;
  versionId?: string;
}

export interface ChainReport {
  objects: number;
  chainedEntries: number;
  /** Entries written before hashing: the history there is not tamper-evident. */
  unchainedEntries: number;
  objectsWithUnchainedHistory: number;
  earliestChainedAt: string | null;
  problems: string[];
}

export interface EvidencePack {
  title: string;
  generatedAt: string;
  asOf: string;
  reconstructed: boolean;
  window: { from: string; to: string; days: number };
  scope: { buckets: string[] | 'all'; accounts: string[] | 'all'; organization?: boolean };
  /** What an assessor must read first: gaps in scope, broken chains, incomplete history. */
  gaps: string[];
  population: Population;
  coverage: CoverageRow[];
  /** When the scope spans several accounts: each account's buckets by coverage status. */
  coverageByAccount?: AccountCoverage[];
  exceptions: { objects: PopulationObject[]; exemptions: ExemptionRow[] };
  /** Rows of each long list; a pack written to files keeps the first HTML_ROWS in memory (and in the HTML), every row in its CSV and in evidence.json. */
  totals: { exceptions: number; fixes: number; verdictChanges: number };
  keys: KeyRow[];
  changes: { fixes: FixChange[]; verdictChanges: VerdictChange[]; policyVersions: string[]; keyActions: KeyAction[]; keyStates: KeyRow[]; note: string };
  controls: { reviewed: string; rows: readonly ControlRow[] };
  chains: ChainReport;
  sample?: SampleReport;
}

export interface SampleRow {
  bucket: string;
  key: string;
  recorded: { verdict: string; mode?: string; kmsKeyArn?: string; versionId?: string; etag?: string };
  live?: { verdict: string; mode?: string; kmsKeyArn?: string; versionId?: string; etag?: string; keyState?: string };
  result: 'match' | 'mismatch' | 'could-not-check';
  differences: string[];
  checkedAt: string;
}

export interface SampleReport {
  seed: number;
  requested: number;
  drawnFrom: number;
  rows: SampleRow[];
  matches: number;
  mismatches: number;
  couldNotCheck: number;
}

const accountOf = (f: object): string | undefined => {
  const account = (f as { account?: unknown; accountId?: unknown }).account ?? (f as { accountId?: unknown }).accountId;
  return typeof account === 'string' ? account : undefined;
};

function inScopeObject(records: ObjectRecords, scope: EvidenceScope): boolean {
  if (scope.buckets && !scope.buckets.includes(records.bucket)) return false;
  if (scope.accounts) {
    const account = accountOf(records.state ?? records.history.at(-1) ?? {});
    if (!account || !scope.accounts.includes(account)) return false;
  }
  return true;
}

const bySk = (a: StoredHistoryEntry, b: StoredHistoryEntry) => (a.sk < b.sk ? -1 : a.sk > b.sk ? 1 : 0);
/** Entries that describe the object's recorded state (not a fix's own entry, not an overtaken fix). */
const describesState = (e: StoredHistoryEntry) => !e.overtaken && !e.sk.endsWith('#FIX') && e.rev > 0;

/** The object as of the time: its state (now), or its newest history entry at or before it. */
function objectAsOf(records: ObjectRecords, options: EvidenceOptions): PopulationObject | 'absent' | 'unknown' {
  const { state } = records;
  if (!options.reconstructed) {
    if (!state) return 'absent';
    return {
      bucket: state.bucket,
      key: state.key,
      ...(accountOf(state) ? { account: accountOf(state)! } : {}),
      ...(state.versionId ? { versionId: state.versionId } : {}),
      ...(state.etag ? { etag: state.etag } : {}),
      verdict: state.verdict,
      ...(state.mode ? { mode: state.mode } : {}),
      ...(state.kmsKeyArn ? { kmsKeyArn: state.kmsKeyArn } : {}),
      size: state.size,
      reasons: state.reasons.map((r) => ({ code: r.code, message: r.message })),
      auditedAt: state.auditedAt,
      evidence: state.evidence ?? 'head',
    };
  }
  const asOf = options.asOf.toISOString();
  const entries = records.history.filter(describesState).sort(bySk);
  const before = entries.filter((e) => e.auditedAt <= asOf);
  const last = before.at(-1);
  if (!last) {
    // Recorded later, nothing on record then: whether it existed is not known from the history.
    return entries.length > 0 || (state && state.firstSeen <= asOf) ? 'unknown' : 'absent';
  }
  if (last.removed) return 'absent';
  const sameAsState = state && (state.versionId ?? null) === (last.versionId ?? null) && state.etag === last.etag;
  const size = last.size ?? (sameAsState ? state.size : undefined);
  return {
    bucket: records.bucket,
    key: records.key,
    ...(accountOf(last) ? { account: accountOf(last)! } : {}),
    ...(last.versionId ? { versionId: last.versionId } : {}),
    ...(last.etag ? { etag: last.etag } : {}),
    verdict: last.verdict,
    ...(last.mode ? { mode: last.mode } : {}),
    ...(last.kmsKeyArn ? { kmsKeyArn: last.kmsKeyArn } : {}),
    ...(size === undefined ? {} : { size }),
    reasons: last.reasons.map((r) => ({ code: r.code, message: r.message })),
    auditedAt: last.auditedAt,
    evidence: (last as { evidence?: string }).evidence ?? 'head',
  };
}

const emptyTally = (): Tally => ({ objects: 0, bytes: 0 });
function tally(into: Tally, size: number | undefined): void {
  into.objects += 1;
  if (size === undefined) into.unsized = (into.unsized ?? 0) + 1;
  else into.bytes += size;
}

/** The HTML shows this many rows of a long list; the CSV and JSON files carry every row. */
export const HTML_ROWS = 500;

/** Where the long lists go as the objects pass: files (the CLI, the scheduled pack) or arrays (the API). */
export interface PackSinks {
  exception(o: PopulationObject): void;
  fix(f: FixChange): void;
  verdictChange(c: VerdictChange): void;
  /** One object's history entries (in sort-key order) and its state's chain head. */
  history?(id: string, entries: StoredHistoryEntry[], head: string | undefined): void;
}

/** N items kept of a stream of any length: the first N in `order`, by a sort now and then (memory ≤ 2N). */
class Kept<T> {
  private items: T[] = [];
  total = 0;
  constructor(private readonly limit: number, private readonly order: (a: T, b: T) => number) {}
  add(item: T): void {
    this.total += 1;
    this.items.push(item);
    if (this.items.length >= 2 * this.limit) this.items = this.items.sort(this.order).slice(0, this.limit);
  }
  list(): T[] {
    return this.items.sort(this.order).slice(0, this.limit);
  }
}

const VERDICT_RANK: Record<string, number> = { 'at-risk': 0, noncompliant: 1, unauditable: 2, exempt: 3, compliant: 4 };
const byObject = (a: { bucket: string; key: string }, b: { bucket: string; key: string }) => (a.bucket === b.bucket ? (a.key < b.key ? -1 : a.key > b.key ? 1 : 0) : a.bucket < b.bucket ? -1 : 1);
/** The HTML's exceptions: at risk first, then by object. */
const exceptionOrder = (a: PopulationObject, b: PopulationObject) => (VERDICT_RANK[a.verdict] ?? 9) - (VERDICT_RANK[b.verdict] ?? 9) || byObject(a, b);
/** The HTML's changes: the most recent. */
const newestFirst = (a: { at: string }, b: { at: string }) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0);

/** A sample drawn while the objects pass: the N with the lowest keyed hash of (seed, object), whatever the order they come in. */
class SampleDraw {
  private kept: { rank: string; object: PopulationObject }[] = [];
  drawnFrom = 0;
  constructor(readonly size: number, readonly seed: number) {}
  add(object: PopulationObject): void {
    this.drawnFrom += 1;
    const rank = createHash('sha256').update(`${this.seed}\n${object.bucket}/${object.key}`).digest('hex');
    this.kept.push({ rank, object });
    if (this.kept.length >= 2 * Math.max(this.size, 1)) this.kept = this.kept.sort((a, b) => (a.rank < b.rank ? -1 : 1)).slice(0, this.size);
  }
  drawn(): PopulationObject[] {
    return this.kept.sort((a, b) => (a.rank < b.rank ? -1 : 1)).slice(0, this.size).map((k) => k.object);
  }
}

interface BucketCoverage {
  objects: number;
  lastAudited: string | null;
  tiers: Record<string, number>;
  account?: string;
}

/**
 * Computes the pack one object at a time: population, coverage, keys and chain checks as running
 * aggregates, the long lists (exceptions, fixes, verdict changes, history) handed to the sinks as
 * they are found, and only the first HTML_ROWS of each kept for the HTML. Memory does not grow with
 * the table, only with the number of buckets, keys, accounts and exemptions.
 */
export class EvidenceAccumulator {
  private readonly asOf: string;
  private readonly windowFrom: string;
  private readonly population: Population;
  private readonly unknownExamples: string[] = [];
  private readonly buckets = new Map<string, BucketCoverage>();
  private readonly accounts = new Set<string>();
  private readonly exceptions = new Kept<PopulationObject>(HTML_ROWS, exceptionOrder);
  private readonly fixes = new Kept<FixChange>(HTML_ROWS, newestFirst);
  private readonly verdictChanges = new Kept<VerdictChange>(HTML_ROWS, newestFirst);
  private readonly policyVersions = new Set<string>();
  private readonly exemptionCoverage: { covered: number; examples: string[] }[];
  private readonly chains: ChainReport = { objects: 0, chainedEntries: 0, unchainedEntries: 0, objectsWithUnchainedHistory: 0, earliestChainedAt: null, problems: [] };
  private objectsWithoutAccount = 0;
  readonly sample?: SampleDraw;

  constructor(
    private readonly context: EvidenceContext,
    private readonly options: EvidenceOptions,
    private readonly sinks: PackSinks,
    sample?: { size: number; seed: number },
  ) {
    this.asOf = options.asOf.toISOString();
    this.windowFrom = new Date(options.asOf.getTime() - options.windowDays * DAY_MS).toISOString();
    this.population = {
      objects: 0,
      bytes: 0,
      unsized: 0,
      byVerdict: Object.fromEntries(VERDICTS.map((v) => [v, emptyTally()])),
      byMode: {},
      byKmsKey: {},
      byBucket: {},
      byAccount: {},
      noncurrent: { objects: 0, bytes: 0, verdicts: {}, note: '' },
      unknownAsOf: { objects: 0, examples: [] },
    };
    this.exemptionCoverage = context.exemptions.map(() => ({ covered: 0, examples: [] }));
    if (sample) this.sample = new SampleDraw(sample.size, sample.seed);
  }

  /** One object's records (all its items): skipped when out of scope. */
  add(id: string, records: ObjectRecords): void {
    if (!inScopeObject(records, this.options.scope)) return;
    const { options, population } = this;
    const now = objectAsOf(records, options);
    if (now === 'unknown') {
      population.unknownAsOf.objects += 1;
      if (this.unknownExamples.length < 50) this.unknownExamples.push(id);
    } else if (now !== 'absent') this.count(now);
    // The sample is of what is recorded now: that is what a live check can confirm or contradict.
    if (this.sample) {
      const recorded = options.reconstructed ? objectAsOf(records, { ...options, reconstructed: false }) : now;
      if (recorded !== 'absent' && recorded !== 'unknown') this.sample.add(recorded);
    }
    this.countNoncurrent(records, now);
    this.changesOf(records);
    this.checkChainOf(id, records);
  }

  private count(o: PopulationObject): void {
    const { population } = this;
    population.objects += 1;
    if (o.size === undefined) population.unsized += 1;
    else population.bytes += o.size;
    tally((population.byVerdict[o.verdict] ??= emptyTally()), o.size);
    tally((population.byMode[o.mode ?? 'unknown'] ??= emptyTally()), o.size);
    if (o.kmsKeyArn) tally((population.byKmsKey[o.kmsKeyArn] ??= emptyTally()), o.size);
    if (o.account) {
      this.accounts.add(o.account);
      const account = (population.byAccount[o.account] ??= { ...emptyTally(), verdicts: {} });
      tally(account, o.size);
      account.verdicts![o.verdict] = (account.verdicts![o.verdict] ?? 0) + 1;
    } else this.objectsWithoutAccount += 1;
    const bucket = (population.byBucket[o.bucket] ??= { ...emptyTally(), verdicts: {} });
    tally(bucket, o.size);
    bucket.verdicts[o.verdict] = (bucket.verdicts[o.verdict] ?? 0) + 1;
    const coverage = this.buckets.get(o.bucket) ?? { objects: 0, lastAudited: null, tiers: {} };
    this.buckets.set(o.bucket, coverage);
    coverage.objects += 1;
    if (coverage.lastAudited === null || o.auditedAt > coverage.lastAudited) coverage.lastAudited = o.auditedAt;
    coverage.tiers[o.evidence] = (coverage.tiers[o.evidence] ?? 0) + 1;
    if (o.account && !coverage.account) coverage.account = o.account;
    if (o.verdict !== 'compliant' && o.verdict !== 'exempt') {
      this.exceptions.add(o);
      this.sinks.exception(o);
    }
    this.context.exemptions.forEach((e, i) => {
      if (!inScope(e, o.bucket, o.key)) return;
      const covered = this.exemptionCoverage[i]!;
      covered.covered += 1;
      if (covered.examples.length < 1000) covered.examples.push(`${o.bucket}/${o.key}`);
    });
  }

  /**
   * Noncurrent versions (VERSION# items: no history of their own), never the version that is the
   * object (now: its state; as of a time: its history's entry then — it is in the population, not
   * apart). As of a time: those first seen by then; one audited after the time is counted as last
   * recorded and under `recordedAfterAsOf`, because its verdict then is not on record.
   */
  private countNoncurrent(records: ObjectRecords, current: PopulationObject | 'absent' | 'unknown'): void {
    const noncurrent = this.population.noncurrent;
    for (const version of records.versions) {
      if (this.options.reconstructed && version.firstSeen > this.asOf) continue;
      // The version that is (or was, as of the time) the object is counted in the population, not apart.
      if (typeof current === 'object' && current.versionId !== undefined && current.versionId === version.versionId) continue;
      noncurrent.objects += 1;
      noncurrent.bytes += version.size;
      noncurrent.verdicts[version.verdict] = (noncurrent.verdicts[version.verdict] ?? 0) + 1;
      if (this.options.reconstructed && version.auditedAt > this.asOf) {
        const later = (noncurrent.recordedAfterAsOf ??= { objects: 0, verdicts: {} });
        later.objects += 1;
        later.verdicts[version.verdict] = (later.verdicts[version.verdict] ?? 0) + 1;
      }
    }
  }

  private changesOf(records: ObjectRecords): void {
    const seenFix = new Set<string>();
    for (const e of [...records.history].sort(bySk)) {
      if (e.auditedAt < this.windowFrom || e.auditedAt > this.asOf) continue;
      // The policy that judged the audit (absent on entries recorded before findings named it).
      const policy = (e as { policy?: { version?: number; hash?: string } }).policy;
      if (policy?.hash) this.policyVersions.add(`${policy.hash} (schema v${policy.version ?? '?'})`);
      if (e.remediation) {
        const r = e.remediation;
        // Fixes recorded both by the fixer and on the object's next audit are one fix.
        const fixId = `${r.at}#${r.action}#${r.outcome}`;
        if (!seenFix.has(fixId)) {
          seenFix.add(fixId);
          const after = r.after as { versionId?: string } | undefined;
          const fix: FixChange = {
            bucket: records.bucket,
            key: records.key,
            at: r.at,
            action: r.action,
            outcome: r.outcome,
            before: r.before,
            ...(r.after ? { after: r.after } : {}),
            ...(r.before.versionId ? { beforeVersionId: r.before.versionId } : {}),
            ...(after?.versionId ? { afterVersionId: after.versionId } : {}),
            ...(r.batchJobId ? { batchJobId: r.batchJobId } : {}),
          };
          this.fixes.add(fix);
          this.sinks.fix(fix);
        }
      }
      if (!describesState(e)) continue;
      if (e.removed || e.previousVerdict === undefined || e.previousVerdict !== e.verdict) {
        const change: VerdictChange = {
          bucket: records.bucket,
          key: records.key,
          at: e.auditedAt,
          ...(e.previousVerdict ? { from: e.previousVerdict } : {}),
          to: e.removed ? 'removed' : e.verdict,
          removed: Boolean(e.removed),
          ...(e.versionId ? { versionId: e.versionId } : {}),
        };
        this.verdictChanges.add(change);
        this.sinks.verdictChange(change);
      }
    }
  }

  private checkChainOf(id: string, records: ObjectRecords): void {
    const { chains } = this;
    chains.objects += 1;
    const check = checkChain(id, records.history, records.state?.chainHead);
    chains.chainedEntries += check.chained;
    chains.unchainedEntries += check.unchained;
    if (check.unchained > 0) chains.objectsWithUnchainedHistory += 1;
    chains.problems.push(...check.problems);
    for (const e of records.history) {
      if (e.hash && (chains.earliestChainedAt === null || e.auditedAt < chains.earliestChainedAt)) chains.earliestChainedAt = e.auditedAt;
    }
    this.sinks.history?.(id, [...records.history].sort(bySk), records.state?.chainHead);
  }

  /** The pack; its long lists hold the first HTML_ROWS rows (`totals` counts them all). */
  finish(): EvidencePack {
    const { options, context, population, asOf } = this;
    population.unknownAsOf.examples = [...this.unknownExamples].sort();
    population.noncurrent.note = options.reconstructed
      ? 'Noncurrent versions first seen by the as-of time, apart from the version the history says was current then; their verdicts are as last recorded (no per-version history): those recorded after the as-of time are counted under recordedAfterAsOf.'
      : 'Noncurrent versions (audited with --all-versions), counted apart from the objects.';
    const accountScoped = Boolean(options.scope.accounts || options.scope.org);

    // Coverage: every bucket in scope, never or stale first. Buckets ListBuckets names are the
    // caller's own account's: with an account scope they are not known to be in it.
    const bucketNames = new Set<string>([...(options.scope.buckets ?? [...(accountScoped ? [] : (context.existingBuckets ?? [])), ...this.buckets.keys()])]);
    const coverage: CoverageRow[] = [...bucketNames].map((bucket) => {
      const mine = this.buckets.get(bucket);
      const lastAudited = mine?.lastAudited ?? null;
      const runs = (context.wholeBucketRuns.get(bucket) ?? []).filter((at) => at <= asOf).sort();
      const lastRun = runs.at(-1) ?? null;
      const freshest = [lastAudited, lastRun].filter((t): t is string => t !== null).sort().at(-1) ?? null;
      // A bucket is current when swept whole recently: an event now and then does not cover the rest.
      const ageDays = lastRun === null ? null : Math.floor((options.asOf.getTime() - Date.parse(lastRun)) / DAY_MS);
      const status: CoverageRow['status'] = freshest === null ? 'never' : ageDays === null || ageDays > STALE_AFTER_DAYS ? 'stale' : 'current';
      return { bucket, ...(mine?.account ? { account: mine.account } : {}), status, objects: mine?.objects ?? 0, lastAudited, lastWholeBucketRun: lastRun, ageDays, tiers: mine?.tiers ?? {} };
    });
    const rank = { never: 0, stale: 1, current: 2 } as const;
    coverage.sort((a, b) => rank[a.status] - rank[b.status] || ((a.account ?? '') < (b.account ?? '') ? -1 : (a.account ?? '') > (b.account ?? '') ? 1 : 0) || (a.bucket < b.bucket ? -1 : 1));
    const multiAccount = this.accounts.size > 1;
    const coverageByAccount = multiAccount ? accountCoverage(coverage) : undefined;

    const exemptions: ExemptionRow[] = context.exemptions.map((e, i) => ({
      bucket: e.bucket,
      prefix: e.prefix,
      owner: e.owner,
      reason: e.reason,
      expires: e.expires.toISOString(),
      expired: e.expires.getTime() <= options.asOf.getTime(),
      coveredObjects: this.exemptionCoverage[i]!.covered,
      covered: this.exemptionCoverage[i]!.examples,
    }));

    // Keys: every key objects depend on (as of the time), and every key looked up.
    const keyArns = new Set([...Object.keys(population.byKmsKey), ...Object.keys(context.keyFacts)]);
    const keys: KeyRow[] = [...keyArns].sort().map((arn) => {
      const tallied = population.byKmsKey[arn] ?? emptyTally();
      return { ...keyFactFields(arn, context.keyFacts[arn]), objects: tallied.objects, bytes: tallied.bytes };
    });
    const keyActions = context.keyActions.filter((a) => a.at >= this.windowFrom && a.at <= asOf);
    const keyStates = keys.filter((k) => k.checkedAt && k.checkedAt >= this.windowFrom && k.checkedAt <= asOf && k.state !== undefined && k.state !== 'Enabled');

    const { chains } = this;
    const unknown = population.unknownAsOf.objects;
    const gaps: string[] = [];
    const never = coverage.filter((c) => c.status === 'never');
    const stale = coverage.filter((c) => c.status === 'stale');
    if (never.length > 0) gaps.push(`${never.length} bucket(s) in scope never audited: ${never.map((c) => c.bucket).join(', ')}`);
    if (stale.length > 0) gaps.push(`${stale.length} bucket(s) not swept whole in the ${STALE_AFTER_DAYS} days before ${asOf}: ${stale.map((c) => c.bucket).join(', ')}`);
    if (unknown > 0) gaps.push(`${unknown} object(s) recorded whose history starts after ${asOf}: their state then is unknown, not counted`);
    if (population.unsized > 0) gaps.push(`${population.unsized} object(s) whose size as of ${asOf} is not recorded (history written before sizes were kept): bytes undercount`);
    if (chains.problems.length > 0) gaps.push(`history chain broken: ${chains.problems.length} problem(s) — the history has been edited or entries removed`);
    if (chains.unchainedEntries > 0) gaps.push(`${chains.unchainedEntries} history entr(ies) of ${chains.objectsWithUnchainedHistory} object(s) written before hashing: not tamper-evident`);
    if (options.scope.accounts) gaps.push('scope by account: only findings that carry an account field are included');
    if (accountScoped) gaps.push('scope by account: buckets never audited in a member account are not listed (only recorded buckets are known across accounts)');
    if (options.scope.org && this.objectsWithoutAccount > 0) gaps.push(`${this.objectsWithoutAccount} object(s) recorded without an account (before findings carried one): included, not grouped by account`);

    return {
      title: 'S3 object encryption: evidence pack',
      generatedAt: options.generatedAt.toISOString(),
      asOf,
      reconstructed: options.reconstructed,
      window: { from: this.windowFrom, to: asOf, days: options.windowDays },
      scope: {
        buckets: options.scope.buckets ?? 'all',
        accounts: options.scope.accounts ?? (options.scope.org ? [...this.accounts].sort() : 'all'),
        ...(options.scope.org ? { organization: true } : {}),
      },
      gaps,
      population,
      coverage,
      ...(coverageByAccount ? { coverageByAccount } : {}),
      exceptions: { objects: this.exceptions.list(), exemptions },
      keys,
      changes: {
        fixes: this.fixes.list().reverse(),
        verdictChanges: this.verdictChanges.list().reverse(),
        policyVersions: [...this.policyVersions].sort(),
        keyActions,
        keyStates,
        note: 'Key state changes: sseguard keeps the last facts of each key and its own key actions, not every state change KMS made; CloudTrail holds those.',
      },
      totals: { exceptions: this.exceptions.total, fixes: this.fixes.total, verdictChanges: this.verdictChanges.total },
      controls: { reviewed: CONTROL_MAPPING_REVIEWED, rows: CONTROL_MAPPING },
      chains,
    };
  }
}

/** Per account: its buckets by coverage status (the pack groups coverage by account when it spans several). */
function accountCoverage(rows: CoverageRow[]): AccountCoverage[] {
  const by = new Map<string, AccountCoverage>();
  for (const row of rows) {
    const account = row.account ?? 'unknown';
    const entry = by.get(account) ?? { account, buckets: 0, never: 0, stale: 0, current: 0, objects: 0 };
    by.set(account, entry);
    entry.buckets += 1;
    entry[row.status] += 1;
    entry.objects += row.objects;
  }
  return [...by.values()].sort((a, b) => (a.account < b.account ? -1 : 1));
}

/** The population objects of the scope as of the time, sorted (tests, small tables). */
export function populationObjects(inputs: EvidenceInputs, options: EvidenceOptions): { objects: PopulationObject[]; unknown: string[] } {
  const objects: PopulationObject[] = [];
  const unknown: string[] = [];
  for (const [id, records] of inputs.objects) {
    if (!inScopeObject(records, options.scope)) continue;
    const now = objectAsOf(records, options);
    if (now === 'unknown') unknown.push(id);
    else if (now !== 'absent') objects.push(now);
  }
  objects.sort(byObject);
  return { objects, unknown: unknown.sort() };
}

/** The whole pack in memory (the report API, tests): every row of every list. */
export function buildEvidence(inputs: EvidenceInputs, options: EvidenceOptions): EvidencePack {
  const exceptions: PopulationObject[] = [];
  const fixes: FixChange[] = [];
  const verdictChanges: VerdictChange[] = [];
  const accumulator = new EvidenceAccumulator(inputs, options, { exception: (o) => exceptions.push(o), fix: (f) => fixes.push(f), verdictChange: (c) => verdictChanges.push(c) });
  for (const [id, records] of inputs.objects) accumulator.add(id, records);
  const pack = accumulator.finish();
  pack.exceptions.objects = exceptions.sort(byObject);
  pack.changes.fixes = fixes.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  pack.changes.verdictChanges = verdictChanges.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  return pack;
}
