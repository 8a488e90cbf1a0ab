// Per inventory row, the cheapest sufficient evidence: decide from the row, reuse the recorded KMS
// key, or ask for a HeadObject. Pure: no I/O, no clock.
//
// Decision table, first match wins (row = the inventory's line, recorded = the stored finding):
//
// | # | row                                   | recorded / option                                   | outcome                              |
// |---|---------------------------------------|-----------------------------------------------------|--------------------------------------|
// | 1 | delete marker                         | —                                                   | skip: nothing is stored, nothing to audit |
// | 2 | no EncryptionStatus                   | —                                                   | HEAD `no-encryption-status`          |
// | 3 | SSE-C                                 | —                                                   | inventory (a HEAD without the customer key fails anyway) |
// | 4 | any                                   | clientSideMatters, no recorded or it changed        | HEAD `client-side-unknown` (the envelope is in user metadata, which the inventory lacks) |
// | 5 | any                                   | clientSideMatters, recorded mode client-side        | HEAD `client-side-envelope` (the store keeps no envelope to rebuild the facts from) |
// | 6 | NOT-SSE, SSE-S3                       | —                                                   | inventory                            |
// | 7 | SSE-KMS, DSSE-KMS                     | no recorded                                         | HEAD `new`                           |
// | 8 | SSE-KMS, DSSE-KMS                     | version or ETag differ (or the row lacks the ETag)  | HEAD `changed`                       |
// | 9 | SSE-KMS, DSSE-KMS                     | mode or bucket key differ (or the row lacks it)     | HEAD `encryption-changed`            |
// |10 | SSE-KMS, DSSE-KMS                     | recorded verdict unauditable, or no recorded key    | HEAD `recorded-key-unknown`          |
// |11 | SSE-KMS, DSSE-KMS                     | due for its rolling re-check (option `reverify`)     | HEAD `reverify` (shared/inventory/reverify.ts) |
// |12 | SSE-KMS, DSSE-KMS                     | otherwise                                           | inventory, with the recorded key ARN |
//
// A row from an S3 Metadata table (shared/metadata/) carries what a report lacks: the KMS key ARN
// and the user metadata. Such a row is decided by itself, after rule 3, exactly as HeadObject's
// answer would be (the envelope found as factsFromHead finds it, the key from the row):
// | M | user metadata known                   | —                                                   | inventory (client-side when the envelope is there) |
// | M'| SSE-KMS, DSSE-KMS without kms_key_arn | —                                                   | rules 7-11 as for a report row       |
//
// "Changed" compares what the row carries: the version id when the report lists versions, and the
// ETag. Limitation, by S3's design: UpdateObjectEncryption from key A to key B keeps version, ETag,
// mode and (often) bucket key, so row 12 keeps key A until something else re-audits the object. The
// events path and sseguard's own fixes record such changes; the rolling re-check (row 11) finds the
// rest within its period.
import { clientSideEnvelope, withServerSideLayer } from '../domain/client-side.ts';
import type { EncryptionMode, ObjectFacts, ServerSideMode } from '../domain/encryption.ts';
import type { Verdict } from '../domain/verdict.ts';
import { MODE_OF_STATUS, type InventoryRow } from './row.ts';

/** What the findings store recorded about the object (the same version, or the key's latest). */
export interface RecordedState {
  versionId?: string;
  etag?: string;
  mode: EncryptionMode;
  kmsKeyArn?: string;
  bucketKeyEnabled: boolean;
  verdict: Verdict;
}

export interface DecisionOptions {
  /** The policy cares about client-side encryption (S3 Encryption Client envelopes). */
  clientSideMatters: boolean;
  /** The object is due for its rolling re-check against its live key: a KMS object is HEADed. */
  reverify?: boolean;
}

export const NEEDS_HEAD_REASONS = [
  'no-encryption-status',
  'client-side-unknown',
  'client-side-envelope',
  'new',
  'changed',
  'encryption-changed',
  'recorded-key-unknown',
  'reverify',
] as const;
export type NeedsHeadReason = (typeof NEEDS_HEAD_REASONS)[number];

export type InventoryDecision =
  | { evidence: 'inventory'; facts: ObjectFacts }
  | { needsHead: true; why: NeedsHeadReason }
  | { skip: true; why: 'delete-marker' };

// HeadObject's ArchiveStatus for the Intelligent-Tiering archive tiers the inventory names.
const ARCHIVE_STATUS: Record<string, string> = { ARCHIVE: 'ARCHIVE_ACCESS', DEEP_ARCHIVE: 'DEEP_ARCHIVE_ACCESS' };

function wholeSeconds(iso: string): string {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso : new Date(Math.floor(t / 1000) * 1000).toISOString();
}

const unquoted = (etag: string | undefined) => etag?.replace(/^"|"$/g, '');

/** The object's facts as HeadObject would give them, from the row (and the recorded key for KMS modes). */
export function factsFromRow(row: InventoryRow, mode: EncryptionMode, kmsKeyArn?: string): ObjectFacts {
  const facts: ObjectFacts = {
    bucket: row.bucket,
    key: row.key,
    size: row.size ?? 0,
    storageClass: row.storageClass ?? 'STANDARD',
    mode,
    // SSE-C and non-KMS objects have no bucket key, whatever the column says.
    bucketKeyEnabled: (mode === 'sse-kms' || mode === 'dsse-kms') && row.bucketKeyEnabled === true,
    objectLock: { legalHold: row.objectLockLegalHold === true },
  };
  if (row.versionId) facts.versionId = row.versionId;
  // HeadObject quotes ETags; the report does not. Facts carry HeadObject's form so both tiers compare equal.
  if (row.etag) facts.etag = `"${row.etag}"`;
  // HeadObject's Last-Modified is an HTTP date (whole seconds); the report may carry milliseconds.
  // Whole seconds here, so an unchanged object's finding is the same whichever tier made it.
  if (row.lastModified) facts.lastModified = wholeSeconds(row.lastModified);
  if (kmsKeyArn) facts.kmsKeyArn = kmsKeyArn;
  if (row.objectLockMode) facts.objectLock.mode = row.objectLockMode;
  if (row.objectLockRetainUntil) facts.objectLock.retainUntil = row.objectLockRetainUntil;
  const archive = row.intelligentTieringAccessTier ? ARCHIVE_STATUS[row.intelligentTieringAccessTier] : undefined;
  if (archive) facts.archiveStatus = archive;
  return facts;
}

/** A metadata-table row's facts: the key from the row, the S3 Encryption Client's envelope from its user metadata. */
function factsFromMetadataRow(row: InventoryRow, mode: ServerSideMode, userMetadata: Record<string, string>): ObjectFacts {
  const facts = factsFromRow(row, mode, row.kmsKeyArn);
  const envelope = clientSideEnvelope(userMetadata);
  return envelope ? { ...facts, mode: 'client-side', clientSide: withServerSideLayer(envelope, mode) } : facts;
}

function unchanged(row: InventoryRow, recorded: RecordedState): boolean {
  if (row.versionId !== undefined && row.versionId !== recorded.versionId) return false;
  const etag = unquoted(row.etag);
  return etag !== undefined && etag === unquoted(recorded.etag);
}

export function decideFromInventory(row: InventoryRow, recorded: RecordedState | undefined, options: DecisionOptions): InventoryDecision {
  if (row.isDeleteMarker) return { skip: true, why: 'delete-marker' };
  if (row.encryptionStatus === undefined) return { needsHead: true, why: 'no-encryption-status' };
  const mode = MODE_OF_STATUS[row.encryptionStatus];
  if (mode === 'sse-c') return { evidence: 'inventory', facts: factsFromRow(row, mode) };

  if (row.userMetadata !== undefined && (row.kmsKeyArn !== undefined || (mode !== 'sse-kms' && mode !== 'dsse-kms'))) {
    return { evidence: 'inventory', facts: factsFromMetadataRow(row, mode, row.userMetadata) };
  }
  const same = recorded !== undefined && unchanged(row, recorded);
  if (options.clientSideMatters) {
    if (!same) return { needsHead: true, why: 'client-side-unknown' };
    if (recorded.mode === 'client-side') return { needsHead: true, why: 'client-side-envelope' };
  }
  if (mode === 'none' || mode === 'sse-s3') return { evidence: 'inventory', facts: factsFromRow(row, mode) };

  if (recorded === undefined) return { needsHead: true, why: 'new' };
  if (!same) return { needsHead: true, why: 'changed' };
  if (recorded.mode !== mode || row.bucketKeyEnabled === undefined || row.bucketKeyEnabled !== recorded.bucketKeyEnabled) {
    return { needsHead: true, why: 'encryption-changed' };
  }
  if (recorded.verdict === 'unauditable' || !recorded.kmsKeyArn) return { needsHead: true, why: 'recorded-key-unknown' };
  if (options.reverify) return { needsHead: true, why: 'reverify' };
  return { evidence: 'inventory', facts: factsFromRow(row, mode, recorded.kmsKeyArn) };
}
