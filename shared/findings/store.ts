// The findings store port: what the audit needs to record and what the report needs to read.
import type { EncryptionMode, KeyLookup } from '../domain/encryption.ts';
import type { EncryptionSnapshot, Finding, RemediationRecord } from '../domain/finding.ts';
import type { RemediationAction } from '../remediation/outcomes.ts';
import type { RemediationTarget } from '../remediation/fix-plan.ts';
import type { PolicyId } from '../domain/policy-identity.ts';
import type { Verdict } from '../domain/verdict.ts';

export interface StoredFinding extends Finding {
  firstSeen: string;
  lastSeen: string;
  rev: number;
  /** The hash of the object's newest history entry (see history-chain.ts); absent before hashing. */
  chainHead?: string;
  /** The date of an inventory report that did not list the object while no HeadObject could say it was gone (inventory-absence.ts). */
  absentFrom?: string;
}

export interface HistoryEntry {
  auditedAt: string;
  account?: string;
  region?: string;
  rev: number;
  verdict: Verdict;
  mode?: EncryptionMode;
  kmsKeyArn?: string;
  versionId?: string;
  etag?: string;
  reasons: Finding['reasons'];
  previousVerdict?: Verdict;
  remediation?: Finding['remediation'];
  /** A fix recorded after a newer audit of the object: it did not change the recorded state. */
  overtaken?: boolean;
  /** The object was removed from S3; its state was removed from the table (the history stays). */
  removed?: boolean;
  /** The object's size as audited (what an as-of population counts in bytes). */
  size?: number;
  /** SHA-256 of this entry's stored fields and object (history-chain.ts); absent on entries written before hashing. */
  hash?: string;
  /** The hash of the object's entry before this one: the per-object chain. */
  prevHash?: string;
  /** A fix entry written for an object without a state (no chain to join): hashed, not linked. */
  sealedAlone?: boolean;
  /** The policy that judged this audit (absent on entries recorded before findings named their policy). */
  policy?: PolicyId;
}

export interface Counts {
  objects: number;
  bytes: number;
  verdicts: Partial<Record<Verdict, number>>;
  modes: Partial<Record<EncryptionMode | 'unknown', number>>;
  /** Noncurrent versions (audited with --all-versions), counted apart from the objects. */
  noncurrent?: NoncurrentCounts;
}

export interface NoncurrentCounts {
  objects: number;
  bytes: number;
  verdicts: Partial<Record<Verdict, number>>;
}

export interface Summary {
  overall: Counts;
  /** Per account (findings that carry one), worst first is the reader's choice. */
  accounts?: Record<string, Counts>;
  buckets: Record<string, Counts>;
  kmsKeys: Record<string, Counts>;
  keyFacts: Record<string, KeyLookup & { checkedAt: string }>;
}

export interface FindingFilter {
  account?: string;
  region?: string;
  bucket?: string;
  verdict?: Verdict;
  kmsKeyArn?: string;
  /**
   * With `bucket` alone: only keys from `from` (inclusive) to `to` (exclusive), in DynamoDB's
   * order of keys (UTF-8 bytes): one partition of a reconciliation reads only its own findings.
   */
  keyRange?: { from?: string; to?: string };
}

/** A run over many accounts: what it covered and what it did not (the proof of coverage, and of its gaps). */
export interface AccountsRun {
  id: string;
  startedAt: string;
  finishedAt: string;
  /** The run covered only keys under this prefix, in every bucket. */
  prefix?: string;
  accounts: { account: string; status: 'covered' | 'partial' | 'gap'; regions: string[]; buckets: number; objects: number; notAudited: number }[];
  gaps: { account: string; region?: string; bucket?: string; reason: string }[];
}

export interface ScanRun {
  id: string;
  account?: string;
  region?: string;
  bucket: string;
  prefix: string;
  startedAt: string;
  finishedAt: string;
  objects: number;
  verdicts: Partial<Record<Verdict, number>>;
  /** The run audited no object (nothing listed under its bucket and prefix): it proves nothing, and is no compliance figure. */
  empty?: boolean;
  /** Stopped by a signal before the end: a partial audit of its scope, no compliance figure and no coverage. */
  interrupted?: { listingFinished: boolean };
}

/**
 * A fix under way, written before the S3 call and closed with its outcome right after it. A crash
 * between the two leaves it open: the next audit of the object closes it with what S3 shows.
 */
export interface FixIntent {
  /** `<startedAt>#<random>`: names the fix's one history entry. */
  id: string;
  bucket: string;
  key: string;
  startedAt: string;
  action: RemediationAction;
  target: RemediationTarget;
  /** The object version the fix starts from, as audited. */
  before: EncryptionSnapshot & { lastModified?: string };
  verdict: Verdict;
  /** The fix is a task of this S3 Batch Operations job (its JOBS record): only folding its report closes it. */
  batch?: { recordId: string };
}

/** Where fixes are recorded the moment they are made, not with the findings batch that follows. */
export interface FixLog {
  recordIntent(intent: FixIntent): Promise<void>;
  recordOutcome(intent: FixIntent, record: RemediationRecord): Promise<void>;
}

/**
 * Something sseguard did to a KMS key itself (not to an object): cancelling the deletion of a key
 * objects still depend on. Kept in the findings table beside the key's facts, newest last.
 */
export interface KeyAction {
  action: 'cancel-key-deletion';
  outcome: 'cancelled' | 'failed';
  keyArn: string;
  at: string;
  /** The deletion date that was scheduled (and, when cancelled, no longer is). */
  deletionDate?: string;
  /** The blast radius that justified it, from the key's counter. */
  objects: number;
  bytes: number;
  detail: string;
}

export interface RecordResult {
  /** Findings whose order against the stored state only a fresh HeadObject can tell: audit them again. */
  undecided: Finding[];
  /** Stale audits whose recorded version may have been deleted permanently (findings/record-decision.ts): check it. */
  recheck?: { finding: Finding; recordedVersionId: string }[];
}

export interface FindingsStore {
  /**
   * Records findings; a finding older than the one stored for that object is ignored. A finding
   * marked `removed` removes the object's state and counts (its history stays).
   */
  record(findings: Finding[]): Promise<RecordResult>;
  recordKeys(keys: KeyLookup[], checkedAt: Date): Promise<void>;
  recordKeyAction(action: KeyAction): Promise<void>;
  recordScan(run: ScanRun): Promise<void>;
  /** The record of a multi-account run: every account's coverage and every gap, named. */
  recordAccountsRun?(run: AccountsRun): Promise<void>;
  summary(): Promise<Summary>;
  findings(filter?: FindingFilter): AsyncIterable<StoredFinding[]>;
  history(bucket: string, key: string): Promise<HistoryEntry[]>;
  /** The recorded states of these objects of one bucket, by key. */
  statesOf(bucket: string, keys: string[]): Promise<Map<string, StoredFinding>>;
}
