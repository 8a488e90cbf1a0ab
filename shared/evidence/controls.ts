// Which part of the evidence pack answers which requirement, in the words of the claim it supports
// and the limits of that claim. A table in code, reviewed on the date below against the sources named:
// a change of a standard is a change here, with a new date.
export const CONTROL_MAPPING_REVIEWED = '2026-12-04';

export interface ControlRow {
  framework: string;
  control: string;
  /** What the requirement asks, in short. */
  requirement: string;
  /** The pack's sections that answer it. */
  evidence: string[];
  /** Exactly what the pack supports a claim of. */
  claim: string;
  /** What the pack does not show: the assessor must look elsewhere for it. */
  limits: string;
  source: string;
}

export const CONTROL_MAPPING: readonly ControlRow[] = [
  {
    framework: 'PCI DSS v4.0',
    control: '3.5.1',
    requirement: 'PAN is rendered unreadable anywhere it is stored.',
    evidence: ['population', 'exceptions', 'coverage', 'sample'],
    claim:
      'Each S3 object in the audited buckets was, as of the stated time, stored with the server-side encryption mode and KMS key shown; objects not meeting the policy are listed by name with their reasons.',
    limits:
      'Says nothing about which objects hold PAN, about copies outside S3, or about buckets outside scope (see coverage). Encryption at rest is one of the 3.5.1 methods only together with the key controls of 3.5.1.2 and 3.6/3.7.',
    source: 'PCI DSS v4.0 (PCI SSC, March 2022; v4.0.1 June 2024), Requirement 3.5.1',
  },
  {
    framework: 'PCI DSS v4.0',
    control: '3.5.1.2',
    requirement: 'Disk- or partition-level encryption alone is acceptable only for removable media, or with another 3.5.1 mechanism.',
    evidence: ['population (mode)', 'keys'],
    claim:
      'Objects under SSE-KMS / DSSE-KMS are shown with the customer-visible key that protects them and its state; objects under SSE-S3 are counted apart.',
    limits:
      'SSE-S3 is transparent to any principal allowed to read the object: whether an assessor accepts it for 3.5.1.2 is an interpretation the pack does not make. SSE-KMS under a restrictive key policy is the defensible answer; the key policy itself is not in the pack.',
    source: 'PCI DSS v4.0, Requirement 3.5.1.2 and its Guidance',
  },
  {
    framework: 'PCI DSS v4.0',
    control: '3.6 / 3.7',
    requirement: 'Cryptographic keys used to protect stored account data are secured, and key-management processes are defined and implemented.',
    evidence: ['keys', 'changes (key state)'],
    claim: 'For every KMS key objects depend on: its state, rotation setting, any scheduled deletion, and the objects and bytes under it, as last looked up.',
    limits: 'Key policies, grants, custodians and key-management procedures are not examined; AWS managed keys rotate yearly by AWS, not by a setting shown here.',
    source: 'PCI DSS v4.0, Requirements 3.6 and 3.7',
  },
  {
    framework: 'NIST SP 800-53 Rev. 5',
    control: 'SC-28',
    requirement: 'Protect the confidentiality and integrity of information at rest.',
    evidence: ['population', 'exceptions', 'sample'],
    claim: 'Confidentiality at rest of the audited S3 objects by server-side encryption, object by object, with exceptions named.',
    limits: 'Integrity at rest (SC-28) and the protection of other stores are out of scope; SC-28(1) cryptographic protection is shown for S3 objects only.',
    source: 'NIST SP 800-53 Rev. 5 (Sept. 2020, updated Dec. 2020), SC-28',
  },
  {
    framework: 'NIST SP 800-53 Rev. 5',
    control: 'SC-12',
    requirement: 'Establish and manage cryptographic keys.',
    evidence: ['keys', 'changes (key state)'],
    claim: 'Inventory of the KMS keys S3 objects depend on, with state, rotation and deletion schedule.',
    limits: 'Key generation, distribution, access and destruction procedures are not shown.',
    source: 'NIST SP 800-53 Rev. 5, SC-12',
  },
  {
    framework: 'HIPAA Security Rule',
    control: '164.312(a)(2)(iv)',
    requirement: 'Implement a mechanism to encrypt and decrypt ePHI (addressable).',
    evidence: ['population', 'exceptions', 'keys'],
    claim: 'The S3 objects in scope are encrypted at rest by the mechanism shown; exceptions are named with owner, reason and expiry.',
    limits: 'Does not identify ePHI, nor document the addressable-specification decision or encryption in transit (164.312(e)).',
    source: '45 CFR 164.312(a)(2)(iv)',
  },
  {
    framework: 'SOC 2 (AICPA TSC 2017, rev. 2022)',
    control: 'CC6.1',
    requirement: 'Logical access security over protected information assets, including encryption of data at rest.',
    evidence: ['population', 'exceptions', 'coverage', 'changes', 'sample'],
    claim: 'Population, exceptions with approvals (exemptions), the changes over the window and an independently drawn sample re-checked live: the control operated for S3 objects in scope.',
    limits: 'Operating effectiveness over the whole window needs packs across it (or --as-of at several times); access controls other than encryption are not shown.',
    source: 'AICPA Trust Services Criteria (2017, revised points of focus 2022), CC6.1',
  },
  {
    framework: 'SOC 2 (AICPA TSC 2017, rev. 2022)',
    control: 'CC6.7',
    requirement: 'Restrict the transmission, movement and removal of information.',
    evidence: ['changes (fixes)'],
    claim: 'Objects re-encrypted by sseguard are shown before → after with version ids: data was moved only into the required protection.',
    limits: 'Transmission (TLS) and removal controls are covered by bucket posture, not by this pack.',
    source: 'AICPA Trust Services Criteria, CC6.7',
  },
  {
    framework: 'AWS Security Hub',
    control: 'S3.17',
    requirement: 'S3 general purpose buckets should be encrypted at rest with AWS KMS keys (bucket default).',
    evidence: ['population (mode, per bucket)'],
    claim: 'Goes further than S3.17: the encryption of each stored object, not only the bucket default that applies to new writes.',
    limits: 'The bucket default configuration itself is reported by `sseguard posture`, not here.',
    source: 'AWS Security Hub controls reference, S3.17',
  },
  {
    framework: 'AWS Security Hub',
    control: 'KMS.3',
    requirement: 'AWS KMS keys should not be deleted unintentionally.',
    evidence: ['keys (deletion schedule)', 'changes (key actions)'],
    claim: 'Keys scheduled for deletion are listed with their date and the objects that would become unreadable.',
    limits: 'Keys no object depends on are listed only if sseguard looked them up.',
    source: 'AWS Security Hub controls reference, KMS.3',
  },
  {
    framework: 'AWS Security Hub',
    control: 'KMS.4',
    requirement: 'AWS KMS key rotation should be enabled.',
    evidence: ['keys (rotation)'],
    claim: 'Rotation setting of each customer managed key objects depend on, as last looked up.',
    limits: 'Rotation unknown where KMS would not say (denied or key state); AWS managed keys rotate by AWS.',
    source: 'AWS Security Hub controls reference, KMS.4',
  },
];
