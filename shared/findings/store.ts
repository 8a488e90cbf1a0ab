// The findings store port: what the audit needs to record and what the report needs to read.
import type { EncryptionMode, KeyLookup } from '../domain/encryption.ts';
import type { Finding } from '../domain/finding.ts';
import type { Verdict } from '../domain/verdict.ts';

export interface StoredFinding extends Finding {
  firstSeen: string;
  lastSeen: string;
  rev: number;
}

export interface HistoryEntry {
  auditedAt: string;
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
}

export interface Counts {
  objects: number;
  bytes: number;
  verdicts: Partial<Record<Verdict, number>>;
  modes: Partial<Record<EncryptionMode | 'unknown', number>>;
}

export interface Summary {
  overall: Counts;
  buckets: Record<string, Counts>;
  kmsKeys: Record<string, Counts>;
  keyFacts: Record<string, KeyLookup & { checkedAt: string }>;
}

export interface FindingFilter {
  bucket?: string;
  verdict?: Verdict;
  kmsKeyArn?: string;
}

export interface ScanRun {
  id: string;
  bucket: string;
  prefix: string;
  startedAt: string;
  finishedAt: string;
  objects: number;
  verdicts: Partial<Record<Verdict, number>>;
}

export interface FindingsStore {
  /**
   * Records findings; a finding older than the one stored for that object is ignored. A finding
   * marked `removed` removes the object's state and counts (its history stays).
   */
  record(findings: Finding[]): Promise<void>;
  recordKeys(keys: KeyLookup[], checkedAt: Date): Promise<void>;
  recordScan(run: ScanRun): Promise<void>;
  summary(): Promise<Summary>;
  findings(filter?: FindingFilter): AsyncIterable<StoredFinding[]>;
  history(bucket: string, key: string): Promise<HistoryEntry[]>;
}
