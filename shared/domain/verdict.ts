// The words a finding is made of. The same strings appear in the code, the JSON and CSV output,
// the findings table and the README.

export const VERDICTS = ['compliant', 'noncompliant', 'at-risk', 'exempt', 'unauditable'] as const;
export type Verdict = (typeof VERDICTS)[number];

export const REASON_CODES = [
  // exempt
  'exempted',
  // informational: shown beside whatever verdict the policy gives
  'exemption-expired',
  // noncompliant
  'not-encrypted',
  'mode-not-allowed',
  'sse-c-forbidden',
  'kms-key-not-allowed',
  'kms-key-aws-managed',
  'bucket-key-disabled',
  'kms-key-rotation-disabled',
  // at-risk: the object cannot be read until the key is usable again (or ever)
  'kms-key-disabled',
  'kms-key-pending-deletion',
  'kms-key-pending-import',
  'kms-key-unavailable',
  'kms-key-not-found',
  // unauditable
  'object-access-denied',
  'object-vanished',
  'object-unreadable',
  'kms-key-access-denied',
  'kms-key-lookup-failed',
  'kms-key-rotation-unknown',
  'kms-key-not-reported',
  // noncompliant: client-side encryption (S3 Encryption Client) the policy does not accept
  'client-side-forbidden',
  'client-side-algorithm-not-allowed',
  // bucket posture, noncompliant (the at-risk and key codes above apply to the bucket's default key)
  'bucket-default-missing',
  'bucket-default-mode-not-allowed',
  'bucket-default-kms-key-not-allowed',
  'bucket-default-kms-key-aws-managed',
  'bucket-default-bucket-key-disabled',
  'tls-not-required',
  'sse-c-not-blocked',
  'unencrypted-puts-not-denied',
  // bucket posture, unauditable
  'bucket-encryption-unreadable',
  'bucket-policy-unreadable',
  'bucket-policy-invalid',
  'sse-c-blocking-unknown',
] as const;
export type ReasonCode = (typeof REASON_CODES)[number];

export interface Reason {
  code: ReasonCode;
  message: string;
}

export interface Evaluation {
  verdict: Verdict;
  reasons: Reason[];
  /** Index of the policy rule that applied, or undefined for the default. */
  ruleIndex?: number;
  remediate: boolean;
}

/** Verdicts a CI gate fails on: anything not proven compliant or exempt. */
export const isFailingVerdict = (verdict: Verdict): boolean => verdict !== 'compliant' && verdict !== 'exempt';
