// The evidence pack's content: from every item of every object in the findings table (states,
// history, noncurrent versions) it computes, as of a point in time, the population, the coverage of
// each bucket in scope, the exceptions, the keys, the changes in the window and the state of the
// history chains. Pure but for what it is given: the CLI and the report API gather the inputs.
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

export interface EvidenceInputs {
  objects: Map<string, ObjectRecords>;
  /** Buckets that exist now (ListBuckets), when known: a bucket never audited is a gap. */
  existingBuckets?: string[];
  keyFacts: Record<string, KeyLookup & { checkedAt: string }>;
  keyActions: KeyAction[];
  /** Whole-bucket scan and sweep runs: bucket → finish times. */
  wholeBucketRuns: Map<string, string[]>;
  exemptions: Exemption[];
}

export interface EvidenceScope {
  buckets?: string[];
  accounts?: string[];
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
  byAccount: Record<string, Tally>;
  noncurrent: { objects: number; bytes: number; verdicts: Record<string, number>; note: string };
  /** Objects recorded now whose history starts after the as-of time: unknown then, not guessed. */
  unknownAsOf: { objects: number; examples: string[] };
}

export interface CoverageRow {
  bucket: string;
  status: 'never' | 'stale' | 'current';
  objects: number;
  lastAudited: string | null;
  lastWholeBucketRun: string | null;
  ageDays: number | null;
  tiers: Record<string, number>;
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
  scope: { buckets: string[] | 'all'; accounts: string[] | 'all' };
  /** What an assessor must read first: gaps in scope, broken chains, incomplete history. */
  gaps: string[];
  population: Population;
  coverage: CoverageRow[];
  exceptions: { objects: PopulationObject[]; exemptions: ExemptionRow[] };
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

/** The current population objects of the scope, as of the time (what the sample draws from). */
export function populationObjects(inputs: EvidenceInputs, options: EvidenceOptions): { objects: PopulationObject[]; unknown: string[] } {
  const objects: PopulationObject[] = [];
  const unknown: string[] = [];
  for (const [id, records] of inputs.objects) {
    if (!inScopeObject(records, options.scope)) continue;
    const now = objectAsOf(records, options);
    if (now === 'unknown') unknown.push(id);
    else if (now !== 'absent') objects.push(now);
  }
  objects.sort((a, b) => (a.bucket === b.bucket ? (a.key < b.key ? -1 : 1) : a.bucket < b.bucket ? -1 : 1));
  return { objects, unknown: unknown.sort() };
}

export function buildEvidence(inputs: EvidenceInputs, options: EvidenceOptions): EvidencePack {
  const asOf = options.asOf.toISOString();
  const windowFrom = new Date(options.asOf.getTime() - options.windowDays * DAY_MS).toISOString();
  const { objects, unknown } = populationObjects(inputs, options);
  const inScopeRecords = [...inputs.objects.values()].filter((r) => inScopeObject(r, options.scope));

  // Population.
  const population: Population = {
    objects: 0,
    bytes: 0,
    unsized: 0,
    byVerdict: Object.fromEntries(VERDICTS.map((v) => [v, emptyTally()])),
    byMode: {},
    byKmsKey: {},
    byBucket: {},
    byAccount: {},
    noncurrent: { objects: 0, bytes: 0, verdicts: {}, note: '' },
    unknownAsOf: { objects: unknown.length, examples: unknown.slice(0, 50) },
  };
  for (const o of objects) {
    population.objects += 1;
    if (o.size === undefined) population.unsized += 1;
    else population.bytes += o.size;
    tally((population.byVerdict[o.verdict] ??= emptyTally()), o.size);
    tally((population.byMode[o.mode ?? 'unknown'] ??= emptyTally()), o.size);
    if (o.kmsKeyArn) tally((population.byKmsKey[o.kmsKeyArn] ??= emptyTally()), o.size);
    if (o.account) tally((population.byAccount[o.account] ??= emptyTally()), o.size);
    const bucket = (population.byBucket[o.bucket] ??= { ...emptyTally(), verdicts: {} });
    tally(bucket, o.size);
    bucket.verdicts[o.verdict] = (bucket.verdicts[o.verdict] ?? 0) + 1;
  }
  for (const records of inScopeRecords) {
    for (const version of records.versions) {
      if (options.reconstructed && version.firstSeen > asOf) continue;
      population.noncurrent.objects += 1;
      population.noncurrent.bytes += version.size;
      population.noncurrent.verdicts[version.verdict] = (population.noncurrent.verdicts[version.verdict] ?? 0) + 1;
    }
  }
  population.noncurrent.note = options.reconstructed
    ? 'Noncurrent versions as last recorded, first seen by the as-of time: their verdicts are not reconstructed from history.'
    : 'Noncurrent versions (audited with --all-versions), counted apart from the objects.';

  // Coverage: every bucket in scope, never or stale first.
  const bucketNames = new Set<string>([
    ...(options.scope.buckets ?? [...(inputs.existingBuckets ?? []), ...inScopeRecords.map((r) => r.bucket)]),
  ]);
  const coverage: CoverageRow[] = [...bucketNames].map((bucket) => {
    const mine = objects.filter((o) => o.bucket === bucket);
    const lastAudited = mine.reduce<string | null>((latest, o) => (latest === null || o.auditedAt > latest ? o.auditedAt : latest), null);
    const runs = (inputs.wholeBucketRuns.get(bucket) ?? []).filter((at) => at <= asOf).sort();
    const lastRun = runs.at(-1) ?? null;
    const freshest = [lastAudited, lastRun].filter((t): t is string => t !== null).sort().at(-1) ?? null;
    // A bucket is current when swept whole recently: an event now and then does not cover the rest.
    const reference = lastRun ?? null;
    const ageDays = reference === null ? null : Math.floor((options.asOf.getTime() - Date.parse(reference)) / DAY_MS);
    const status: CoverageRow['status'] = freshest === null ? 'never' : ageDays === null || ageDays > STALE_AFTER_DAYS ? 'stale' : 'current';
    const tiers: Record<string, number> = {};
    for (const o of mine) tiers[o.evidence] = (tiers[o.evidence] ?? 0) + 1;
    return { bucket, status, objects: mine.length, lastAudited, lastWholeBucketRun: lastRun, ageDays, tiers };
  });
  const rank = { never: 0, stale: 1, current: 2 } as const;
  coverage.sort((a, b) => rank[a.status] - rank[b.status] || (a.bucket < b.bucket ? -1 : 1));

  // Exceptions.
  const exceptionObjects = objects.filter((o) => o.verdict !== 'compliant' && o.verdict !== 'exempt');
  const exemptions: ExemptionRow[] = inputs.exemptions.map((e) => {
    const covered = objects.filter((o) => inScope(e, o.bucket, o.key));
    return {
      bucket: e.bucket,
      prefix: e.prefix,
      owner: e.owner,
      reason: e.reason,
      expires: e.expires.toISOString(),
      expired: e.expires.getTime() <= options.asOf.getTime(),
      coveredObjects: covered.length,
      covered: covered.slice(0, 1000).map((o) => `${o.bucket}/${o.key}`),
    };
  });

  // Keys: every key objects depend on (as of the time), and every key looked up.
  const keyArns = new Set([...Object.keys(population.byKmsKey), ...Object.keys(inputs.keyFacts)]);
  const keys: KeyRow[] = [...keyArns].sort().map((arn) => {
    const tallied = population.byKmsKey[arn] ?? emptyTally();
    return {
      ...keyFactFields(arn, inputs.keyFacts[arn]),
      objects: tallied.objects,
      bytes: tallied.bytes,
    };
  });

  // Changes in the window.
  const fixes: FixChange[] = [];
  const verdictChanges: VerdictChange[] = [];
  const policyVersions = new Set<string>();
  for (const records of inScopeRecords) {
    for (const e of [...records.history].sort(bySk)) {
      if (e.auditedAt < windowFrom || e.auditedAt > asOf) continue;
      // The policy that judged the audit (absent on entries recorded before findings named it).
      const policy = (e as { policy?: { version?: number; hash?: string } }).policy;
      if (policy?.hash) policyVersions.add(`${policy.hash} (schema v${policy.version ?? '?'})`);
      if (e.remediation) {
        const r = e.remediation;
        const after = r.after as { versionId?: string } | undefined;
        fixes.push({
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
        });
      }
      if (!describesState(e)) continue;
      if (e.removed || e.previousVerdict === undefined || e.previousVerdict !== e.verdict) {
        verdictChanges.push({
          bucket: records.bucket,
          key: records.key,
          at: e.auditedAt,
          ...(e.previousVerdict ? { from: e.previousVerdict } : {}),
          to: e.removed ? 'removed' : e.verdict,
          removed: Boolean(e.removed),
          ...(e.versionId ? { versionId: e.versionId } : {}),
        });
      }
    }
  }
  // Fixes recorded both by the fixer and on the object's next audit are one fix.
  const seenFix = new Set<string>();
  const uniqueFixes = fixes
    .filter((f) => {
      const id = `${f.bucket}/${f.key}#${f.at}#${f.action}#${f.outcome}`;
      if (seenFix.has(id)) return false;
      seenFix.add(id);
      return true;
    })
    .sort((a, b) => (a.at < b.at ? -1 : 1));
  verdictChanges.sort((a, b) => (a.at < b.at ? -1 : 1));
  const keyActions = inputs.keyActions.filter((a) => a.at >= windowFrom && a.at <= asOf);
  const keyStates = keys.filter((k) => k.checkedAt && k.checkedAt >= windowFrom && k.checkedAt <= asOf && k.state !== undefined && k.state !== 'Enabled');

  // History chains of the objects in scope.
  const chains: ChainReport = { objects: 0, chainedEntries: 0, unchainedEntries: 0, objectsWithUnchainedHistory: 0, earliestChainedAt: null, problems: [] };
  for (const [id, records] of inputs.objects) {
    if (!inScopeObject(records, options.scope)) continue;
    chains.objects += 1;
    const check = checkChain(id, records.history, records.state?.chainHead);
    chains.chainedEntries += check.chained;
    chains.unchainedEntries += check.unchained;
    if (check.unchained > 0) chains.objectsWithUnchainedHistory += 1;
    chains.problems.push(...check.problems);
    for (const e of records.history) {
      if (e.hash && (chains.earliestChainedAt === null || e.auditedAt < chains.earliestChainedAt)) chains.earliestChainedAt = e.auditedAt;
    }
  }

  const gaps: string[] = [];
  const never = coverage.filter((c) => c.status === 'never');
  const stale = coverage.filter((c) => c.status === 'stale');
  if (never.length > 0) gaps.push(`${never.length} bucket(s) in scope never audited: ${never.map((c) => c.bucket).join(', ')}`);
  if (stale.length > 0) gaps.push(`${stale.length} bucket(s) not swept whole in the ${STALE_AFTER_DAYS} days before ${asOf}: ${stale.map((c) => c.bucket).join(', ')}`);
  if (unknown.length > 0) gaps.push(`${unknown.length} object(s) recorded whose history starts after ${asOf}: their state then is unknown, not counted`);
  if (population.unsized > 0) gaps.push(`${population.unsized} object(s) whose size as of ${asOf} is not recorded (history written before sizes were kept): bytes undercount`);
  if (chains.problems.length > 0) gaps.push(`history chain broken: ${chains.problems.length} problem(s) — the history has been edited or entries removed`);
  if (chains.unchainedEntries > 0) gaps.push(`${chains.unchainedEntries} history entr(ies) of ${chains.objectsWithUnchainedHistory} object(s) written before hashing: not tamper-evident`);
  if (options.scope.accounts) gaps.push('scope by account: only findings that carry an account field are included');

  return {
    title: 'S3 object encryption: evidence pack',
    generatedAt: options.generatedAt.toISOString(),
    asOf,
    reconstructed: options.reconstructed,
    window: { from: windowFrom, to: asOf, days: options.windowDays },
    scope: { buckets: options.scope.buckets ?? 'all', accounts: options.scope.accounts ?? 'all' },
    gaps,
    population,
    coverage,
    exceptions: { objects: exceptionObjects, exemptions },
    keys,
    changes: {
      fixes: uniqueFixes,
      verdictChanges,
      policyVersions: [...policyVersions].sort(),
      keyActions,
      keyStates,
      note: 'Key state changes: sseguard keeps the last facts of each key and its own key actions, not every state change KMS made; CloudTrail holds those.',
    },
    controls: { reviewed: CONTROL_MAPPING_REVIEWED, rows: CONTROL_MAPPING },
    chains,
  };
}

/** A small seeded generator (mulberry32): the same seed draws the same sample. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** N distinct items drawn at random (partial Fisher–Yates), in draw order. */
export function drawSample<T>(items: readonly T[], n: number, seed: number): T[] {
  const random = seededRandom(seed);
  const pool = [...items];
  const count = Math.min(n, pool.length);
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(random() * (pool.length - i));
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  return pool.slice(0, count);
}
