// `sseguard scan`: audits a bucket (or prefix) against the policy and records the findings.
import { performance } from 'node:perf_hooks';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { unreachableEndpoint } from '#shared/aws/errors.ts';
import { ownAccountId } from '#shared/accounts/caller-account.ts';
import type { Writable } from 'node:stream';
import { scanFromInventory, type InventoryDiffSummary, type InventoryScanRunResult } from '#shared/audit/inventory-scan-run.ts';
import type { InventoryBaselineOptions } from '#shared/audit/inventory-baseline.ts';
import { scanBucket, type ScanOptions, type ScanResult } from '#shared/audit/scan.ts';
import { parseInventoryLocation } from '#shared/inventory/manifest.ts';
import { metadataWatermark, recordingBaseline, remediatesAny } from '#shared/audit/inventory-baseline.ts';
import { auditInProcess, checkKeyDrift, keyDriftLine, type KeyDriftOutcome } from '#shared/audit/key-drift.ts';
import { KmsKeyDeletionCanceller } from '#shared/inspect/key-deletion.ts';
import { ObjectAbsenceMarks } from '#shared/findings/absence-marks.ts';
import type { AbsenceOutcome } from '#shared/audit/inventory-absence.ts';
import { s3InventorySource, type InventorySource } from '#shared/inventory/source.ts';
import { DEFAULT_METADATA_LAG_MS, type MetadataTableOptions } from '#shared/metadata/athena-source.ts';
import type { Finding } from '#shared/domain/finding.ts';
import { describePolicyId, policyIdOf, type PolicyId } from '#shared/domain/policy-identity.ts';
import type { ResolvedPolicy } from '#shared/domain/policy.ts';
import { VERDICTS, isFailingVerdict } from '#shared/domain/verdict.ts';
import { createRuntime, scanDependencies } from '#shared/runtime.ts';
import { inChosenRegions } from '#shared/sweep/buckets.ts';
import { ConfigError, type Config } from '#shared/config.ts';
import { batchSettingsProblems } from '#shared/batch-operations/job-rules.ts';
import type { BatchSettings } from '#shared/domain/batch-settings.ts';
import type { CreatedJob } from '#shared/batch-operations/jobs.ts';
import { auditPosture } from '#shared/posture/audit-posture.ts';
import { postureDependencies } from '#shared/posture/posture-dependencies.ts';
import { findingJson } from '#shared/report/export-formats.ts';
import { describeChange, isChange, objectChange, type ObjectChange } from '#shared/remediation/change-log.ts';
import { deliverConfigured } from '#shared/delivery/destinations.ts';
import type { DeliveryResult } from '#shared/delivery/outbox-delivery.ts';
import { formatBytes, renderTable } from '../output/format.ts';
import { ProgressLine } from '../output/progress.ts';
import { write } from '../output/stream.ts';
import { scanRemediation, type RemediationMode, type ScanRemediation } from './scan-remediation.ts';
import { renderPosture } from './posture.ts';
import { unusedRuleWarnings } from '#shared/domain/policy-coverage.ts';
import { warningLine } from '../vocabulary.ts';

export interface ScanCommandOptions {
  bucket: string;
  prefix?: string;
  policy?: string;
  /** --regions: only a bucket in one of these Regions is audited; otherwise it is reported as skipped. */
  regions?: string[];
  concurrency: number;
  json: boolean;
  record: boolean;
  /** 'report' (default): count what the policy would fix; 'dry-run': print the plan; 'fix': fix it. */
  remediation: RemediationMode;
  /** Every version, not only current objects. */
  allVersions?: boolean;
  /** A run that finds no object exits 0 (default: 1, "no objects under s3://B/P"). */
  allowEmpty?: boolean;
  /** s3://<destination>[/<prefix>]: audit from the newest S3 Inventory report there. */
  inventory?: string;
  inventoryId?: string;
  /** --reverify-days: every KMS object HEADed at least this often (else config.reverifyDays). */
  reverifyDays?: number;
  /** --athena-diff-table: a previous report too large to diff in memory is diffed in Athena. */
  athenaDiff?: { table: { database: string; table: string }; workGroup: string; outputLocation?: string };
  /** Audit from the bucket's S3 Metadata live inventory table (Athena) instead. */
  metadataTable?: Pick<MetadataTableOptions, 'workGroup' | 'outputLocation' | 'table'> & { lagMs?: number };
  /** --batch: UpdateObjectEncryption fixes go to S3 Batch Operations jobs (settings: flags, else config). */
  batch?: { roleArn?: string; reportBucket?: string; priority?: number };
  /** --event-bus: one EventBridge event per change on this bus (else SSEGUARD_EVENT_BUS). */
  eventBus?: string;
  /** --security-hub: import changed findings into Security Hub (else SSEGUARD_SECURITY_HUB=on). */
  securityHub?: boolean;
}

/** A query can take minutes on a big table; past this it is stopped and the scan fails. */
const METADATA_QUERY_TIMEOUT_MS = 30 * 60_000;

async function evidenceSource(
  runtime: ReturnType<typeof createRuntime>,
  config: Config,
  options: ScanCommandOptions,
  watermark: MetadataTableOptions['watermark'],
): Promise<InventorySource | undefined> {
  if (options.inventory) return s3InventorySource(runtime.clients.s3, parseInventoryLocation(options.inventory));
  if (!options.metadataTable) return undefined;
  // Imported here: only a metadata-table scan needs the Athena SDK.
  const [{ createAthenaClient }, { athenaMetadataSource }] = await Promise.all([import('#shared/metadata/athena-client.ts'), import('#shared/metadata/athena-source.ts')]);
  return athenaMetadataSource(createAthenaClient({ endpoints: config.endpoints, maxSockets: 4 }), runtime.clients.s3, {
    ...options.metadataTable,
    lagMs: options.metadataTable.lagMs ?? DEFAULT_METADATA_LAG_MS,
    timeoutMs: METADATA_QUERY_TIMEOUT_MS,
    ...(options.prefix ? { prefix: options.prefix } : {}),
    ...(watermark ? { watermark } : {}),
  });
}

/** The Athena diff of --athena-diff-table (the Athena SDK imported only then). */
async function athenaDiffOf(config: Config, options: ScanCommandOptions): Promise<Pick<InventoryBaselineOptions, 'athenaDiff'>> {
  const chosen = options.athenaDiff;
  if (!chosen) return {};
  const [{ createAthenaClient }, { athenaReportChanges }] = await Promise.all([import('#shared/metadata/athena-client.ts'), import('#shared/metadata/athena-report-diff.ts')]);
  const athena = createAthenaClient({ endpoints: config.endpoints, maxSockets: 4 });
  return { athenaDiff: (previous, current) => athenaReportChanges(athena, previous, current, { ...chosen, timeoutMs: METADATA_QUERY_TIMEOUT_MS }) };
}

/** The Batch settings of a run: flags first, then SSEGUARD_*; every problem in one error. */
export function batchSettingsFor(config: Config, flags: NonNullable<ScanCommandOptions['batch']>): BatchSettings {
  const settings = {
    accountId: config.batch.accountId,
    roleArn: flags.roleArn ?? config.batch.roleArn,
    reportBucket: flags.reportBucket ?? config.batch.reportBucket,
    prefix: config.batch.prefix,
    priority: flags.priority ?? config.batch.priority,
  };
  const problems = batchSettingsProblems(settings);
  if (problems.length > 0) throw new ConfigError(problems.join('; '));
  return settings as BatchSettings;
}

const EXAMPLES_SHOWN = 20;
/** Longer than a lease (OUTBOX_LEASE_MS): a killed deliverer's lease has expired by then. */
const CLI_DELIVERY_WAIT_MS = 30_000;

export async function scanCommand(configIn: Config, options: ScanCommandOptions, out: Writable = process.stdout): Promise<number> {
  const config: Config = {
    ...configIn,
    integrations: {
      securityHub: Boolean(options.securityHub || configIn.integrations?.securityHub),
      ...((options.eventBus ?? configIn.integrations?.eventBus) ? { eventBus: (options.eventBus ?? configIn.integrations?.eventBus)! } : {}),
    },
  };
  if ((config.integrations?.eventBus || config.integrations?.securityHub) && !options.record) {
    throw new ConfigError('--event-bus and --security-hub push what changed in the findings table: drop --no-record');
  }
  if (options.batch && options.remediation !== 'fix') throw new ConfigError('--batch needs --remediate: it is how the fixes are made');
  if (options.batch && !options.record) throw new ConfigError('--batch needs the findings table (drop --no-record): jobs and their objects are recorded there');
  const batchSettings = options.batch ? batchSettingsFor(config, options.batch) : undefined;
  const runtime = createRuntime(config, { maxSockets: options.concurrency });
  if (options.regions) {
    const { skipped } = await inChosenRegions([options.bucket], { regions: options.regions, regionOf: (bucket) => runtime.bucketRegions.regionOf(bucket) });
    if (skipped[0]) {
      // Chosen, not failed: said on stderr (and in the JSON), exit 0, nothing audited or recorded.
      process.stderr.write(`sseguard: ${skipped[0].reason}\n`);
      if (options.json) await write(out, `${JSON.stringify({ scan: { bucket: options.bucket, prefix: options.prefix ?? '' }, skipped: skipped[0] })}\n`);
      return 0;
    }
  }
  const deps = await scanDependencies(runtime, options.policy, { record: options.record });
  const progress = new ProgressLine();
  const examples: Finding[] = [];
  const notAudited: Finding[] = [];
  const planLines: string[] = [];
  /** What this run changed (fixes replayed from an earlier run changed nothing now and carry no record). */
  const changes: ObjectChange[] = [];
  /** Objects whose fix a live process elsewhere holds: who, and until when (its lease). */
  const heldElsewhere: string[] = [];
  let fixable = 0;
  const rulesUsed = new Set<number>();
  let first = true;
  const remediation = scanRemediation(
    runtime,
    deps,
    options.remediation,
    (line) => {
      // Table output lists the plan after the summary; JSON carries it in each finding instead.
      if (!options.json) planLines.push(line);
    },
    batchSettings ? { settings: batchSettings, bucket: options.bucket } : undefined,
  );

  // One request first: a dead or silent endpoint ends the command here, in one bounded wait.
  await runtime.clients.s3.send(new ListObjectsV2Command({ Bucket: options.bucket, MaxKeys: 1, ...(options.prefix ? { Prefix: options.prefix } : {}) })).catch((error: unknown) => {
    if (unreachableEndpoint(error, config.endpoints.s3)) throw error;
    // Any other answer (no such bucket, denied) is the listing's to report, with its own words.
  });
  // Findings say whose and where, as an account scan's do: the caller's account, the bucket's Region.
  const origin = await ownOrigin(config, runtime, options.bucket);
  // The bucket's own posture comes first: it decides what every future object gets.
  const { finding: posture } = await auditPosture(
    postureDependencies(runtime, deps.policy, { record: options.record }),
    options.bucket,
  );
  const policy = options.record ? await policyChange(runtime, deps.policy, options) : { policy: policyIdOf(deps.policy) };
  if (policy.overwrites) {
    console.error(
      `sseguard: warning: ${policy.overwrites.underOtherPolicies} findings under s3://${options.bucket}/${options.prefix ?? ''} were judged under another policy ` +
        `(${policy.overwrites.withoutPolicy} more name none); this scan re-judges them under policy ${describePolicyId(policy.policy)}`,
    );
  }
  if (options.json) {
    await write(
      out,
      `{"scan":${JSON.stringify({ bucket: options.bucket, prefix: options.prefix ?? '', ...policy })},"posture":${JSON.stringify(posture)},"findings":[`,
    );
  } else {
    await write(out, `${renderPosture(posture)}\n`);
  }
  const started = performance.now();
  let result: ScanResult;
  // Ctrl-C or SIGTERM: take no new object, let the fixes in flight finish (each wrote its intent
  // before its S3 call), release this run's locks, say what was done. A second signal stops at once:
  // the locks then stay, and the next run on this host takes them over (this process is gone).
  const stop = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    progress.done();
    if (stop.signal.aborted) {
      process.stderr.write(`sseguard: ${signal} again: stopped at once; fixes in flight may be left to the next run on this host\n`);
      process.exit(2);
    }
    stop.abort();
    process.stderr.write(`sseguard: ${signal}: taking no new objects; the audits and fixes in flight finish first (${signal} again stops at once)\n`);
  };
  // Jobs an earlier run left uploaded are created now; what it left collecting is abandoned.
  await remediation.batch?.start();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const scanDeps = { ...deps, ...(remediation.remediator ? { remediator: remediation.remediator } : {}) };
    // Only rows changed since the last verified report (and the rolling re-check) are audited; not
    // without recording, nor for a --prefix (which verifies no report: see scanFromInventory).
    const reverifyDays = options.reverifyDays ?? config.reverifyDays;
    const recording = recordingBaseline(runtime.clients.documents, config.table, reverifyDays);
    const watermark =
      options.metadataTable && options.record && !options.prefix
        ? metadataWatermark({ progress: recording.progress, policy: deps.policy, remediating: remediatesAny(scanDeps.remediator, deps.policy) }, reverifyDays)
        : undefined;
    const inventory = await evidenceSource(runtime, config, options, watermark);
    const baseline =
      options.inventory && options.record
        ? { baseline: { ...recording, ...(await athenaDiffOf(config, options)) } }
        : options.metadataTable && options.record
          ? { baseline: recording }
          : {};
    const run = inventory
      ? (scanOptions: ScanOptions) =>
          scanFromInventory({ ...scanDeps, inventory, ...baseline, absence: new ObjectAbsenceMarks(runtime.clients.documents, config.table) }, { ...scanOptions, ...(options.inventoryId ? { configId: options.inventoryId } : {}) })
      : (scanOptions: ScanOptions) => scanBucket(scanDeps, scanOptions);
    result = await run({
      bucket: options.bucket,
      ...(options.prefix ? { prefix: options.prefix } : {}),
      concurrency: options.concurrency,
      ...(options.allVersions ? { allVersions: true } : {}),
      ...(origin ? { origin } : {}),
      stop: stop.signal,
      onProgress: ({ listed, audited }) => {
        if (!stop.signal.aborted) progress.update(listed, audited);
      },
      onNotAudited: (finding) => {
        if (notAudited.length < EXAMPLES_SHOWN) notAudited.push(finding);
      },
      onFinding: async (finding) => {
        if (finding.remediate) fixable += 1;
        if (options.remediation === 'fix' && isChange(finding.remediation)) changes.push(objectChange(finding.bucket, finding.key, finding.remediation));
        if (finding.remediation?.outcome === 'skipped-being-fixed-elsewhere' && heldElsewhere.length < EXAMPLES_SHOWN) {
          heldElsewhere.push(`s3://${finding.bucket}/${finding.key}: ${finding.remediation.detail ?? 'held by another process'}`);
        }
        if (finding.ruleIndex !== undefined) rulesUsed.add(finding.ruleIndex);
        if (isFailingVerdict(finding.verdict) && examples.length < EXAMPLES_SHOWN) examples.push(finding);
        if (options.json) {
          await write(out, `${first ? '' : ','}\n${JSON.stringify(findingJson(finding))}`);
          first = false;
        }
      },
    });
  } finally {
    progress.done();
    // Normally none is left: each fix that ran completed or removed its lock.
    await remediation.locks?.releaseHeld();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  const batchJobs: CreatedJob[] = remediation.batch ? await remediation.batch.finish() : [];
  // What this run (and any run that stopped before pushing) changed goes out now, from the outbox.
  // The stage's outbox-delivery function may be draining: wait for its lease a little (it renews
  // it every few seconds while it works), else leave this run's changes to it.
  const delivery = await deliverConfigured(config, runtime.clients.documents, { holder: 'cli', waitMs: CLI_DELIVERY_WAIT_MS });
  const seconds = (performance.now() - started) / 1000;
  // A noncurrent SSE-C or unencrypted version is still exposure: it fails the gate too.
  // With a report diff the unchanged rows were not audited again: what the bucket's recorded findings still are counts too.
  let recordedVerdicts = 'inventory' in result ? (result as InventoryScanRunResult).inventory.diff.recordedVerdicts : undefined;
  // Unchanged rows kept their recorded verdicts: each key they depend on is described afresh, and
  // the dependents of a key that changed unseen (its CloudTrail event missed) are judged again.
  let keyCheck: KeyDriftOutcome | undefined;
  if (recordedVerdicts !== undefined && !result.interrupted) {
    keyCheck = await keyDriftCheck(runtime, config, deps.policy);
    if (keyCheck.reevaluated > 0) {
      recordedVerdicts = (await runtime.store.summary()).buckets[options.bucket]?.verdicts ?? {};
      (result as InventoryScanRunResult).inventory.diff.recordedVerdicts = recordedVerdicts;
    }
  }
  const keysUnchecked = (keyCheck?.unchecked.length ?? 0) > 0;
  // A recorded object the report did not list and no HeadObject could ask about was kept as recorded: a coverage gap, never a verdict.
  const absence = 'inventory' in result ? (result as InventoryScanRunResult).inventory.absence : undefined;
  const absenceUnanswered = (absence?.keptUnanswered ?? 0) > 0;
  const failing =
    VERDICTS.filter(isFailingVerdict).some((v) => (result.verdicts[v] ?? 0) > 0 || (result.noncurrent?.verdicts[v] ?? 0) > 0 || (recordedVerdicts?.[v] ?? 0) > 0) ||
    isFailingVerdict(posture.verdict);
  // Objects left unaudited by throttling or failures make the run incomplete: that is an error, not a verdict.
  // An interrupted run did not cover the bucket: 2, like objects left unaudited.
  // A run that audited nothing proves nothing: a typo'd prefix must not pass a gate.
  const emptyRun = result.empty === true && !options.allowEmpty && !result.interrupted;
  // A key KMS did not describe leaves its dependents' verdicts unconfirmed: incomplete, as objects left unaudited.
  const exitCode = result.notAudited > 0 || result.interrupted || keysUnchecked || absenceUnanswered ? 2 : failing || emptyRun ? 1 : 0;
  const interruptedLine = result.interrupted
    ? `interrupted: ${changes.filter((c) => c.outcome === 'fixed').length} fixed so far, ${result.notAudited} not audited: rerun to finish` +
      (result.interrupted.listingFinished ? '' : '\n(the listing had not reached its end: objects not yet listed are not counted)')
    : undefined;
  // A rule that judged nothing here is most often a typo: said on stderr, the verdicts stand. Not
  // after an interrupted run, whose unreached objects may be the ones a rule judges.
  // Nor after a report diff: the unchanged objects a rule judges were not judged again.
  const diffUsed = recordedVerdicts !== undefined;
  const ruleWarnings = result.interrupted || diffUsed ? [] : unusedRuleWarnings(deps.policy, { bucket: options.bucket, prefix: options.prefix ?? '', objects: result.objects }, rulesUsed);
  for (const warning of ruleWarnings) console.error(warningLine(warning));
  const notAuditedJson = notAudited.map((f) => ({ key: f.key, why: whyNotAudited(f) }));

  const remediationSummary = {
    mode: options.remediation,
    fixable,
    outcomes: remediation.outcomes,
    ...(remediation.totals ? { totals: remediation.totals } : {}),
    ...(remediation.batch ? { batchJobs } : {}),
    ...(options.remediation === 'fix' ? { changes } : {}),
  };
  // Keys by their aliases too: every key was looked up during the audit, so these come from the cache.
  const aliases = new Map(
    await Promise.all(Object.keys(result.kmsKeys).map(async (arn) => [arn, await deps.keys.lookup(arn).then((k) => (k.status === 'described' ? (k.aliases ?? []) : []))] as const)),
  );
  if (options.json) {
    const summary = {
      ...result,
      keyAliases: Object.fromEntries(aliases),
      seconds: Number(seconds.toFixed(3)),
      recorded: options.record,
      ...(keyCheck ? { keyCheck } : {}),
      remediation: remediationSummary,
      ...(delivery ? { delivery } : {}),
      ...(result.notAudited > 0 ? { notAuditedExamples: notAuditedJson } : {}),
      exitCode,
    };
    await write(out, `\n],"summary":${JSON.stringify(summary)}}\n`);
    if (interruptedLine) process.stderr.write(`${interruptedLine}\n`);
  } else {
    await write(out, renderSummary(result, seconds, options, examples, config.table, aliases));
    if (keyCheck) await write(out, `${keyDriftLine(keyCheck)}\n`);
    if (absence && absence.keptUnanswered > 0) await write(out, renderUnanswered(absence));
    await write(out, renderRemediation(options.remediation, fixable, remediation, planLines));
    if (changes.length > 0) await write(out, renderChanges(changes));
    if (heldElsewhere.length > 0) await write(out, `\nNot fixed here: another live run holds the fix (rerun after its lease ends):\n${heldElsewhere.map((line) => `  ${line}`).join('\n')}\n`);
    if (remediation.batch) await write(out, renderBatchJobs(batchJobs, planLines));
    if (delivery) await write(out, renderDelivery(delivery));
    // Objects kept unanswered by the reconciliation count as not audited too; they have their own lines above.
    const rowsNotAudited = result.notAudited - (absence?.keptUnanswered ?? 0);
    if (rowsNotAudited > 0) await write(out, renderNotAudited(rowsNotAudited, notAuditedJson));
    if (interruptedLine) await write(out, `\n${interruptedLine}\n`);
  }
  if (emptyRun) console.error(`sseguard: error: no objects under s3://${result.bucket}/${result.prefix} (nothing was audited; --allow-empty accepts that)`);
  return exitCode;
}

/** The key drift check of a run with no audit queue: what the key-event path would queue is audited here. */
async function keyDriftCheck(runtime: ReturnType<typeof createRuntime>, config: Config, policy: ResolvedPolicy): Promise<KeyDriftOutcome> {
  const ownAccount = await ownAccountId(config);
  const base = { objects: runtime.objects, keys: runtime.keys, store: runtime.store, policy, deletions: new KmsKeyDeletionCanceller(runtime.regional) };
  const inProcess = auditInProcess(base, ownAccount);
  const outcome = await checkKeyDrift({ ...base, queue: inProcess.queue, ...(ownAccount ? { ownAccount } : {}) });
  // Objects a retry could change were not recorded, nor other accounts' objects: their keys count as unchecked.
  const unchecked = [
    ...(inProcess.tally.transient > 0 ? [{ arn: '(re-evaluation)', detail: `${inProcess.tally.transient} objects not re-evaluated (transient errors)` }] : []),
    ...(inProcess.tally.otherAccounts > 0
      ? [{ arn: '(other accounts)', detail: `${inProcess.tally.otherAccounts} objects of other accounts not re-evaluated here (this caller holds none of their roles; the stage's key check re-evaluates them through each account's role)` }]
      : []),
  ];
  return { ...outcome, reevaluated: outcome.reevaluated + inProcess.tally.audited, queued: 0, unchecked: [...outcome.unchecked, ...unchecked] };
}

/** The account (SSEGUARD_ACCOUNT_ID, else STS GetCallerIdentity) and the bucket's Region; undefined when either is unknown. */
async function ownOrigin(config: Config, runtime: ReturnType<typeof createRuntime>, bucket: string): Promise<{ account: string; region: string } | undefined> {
  const [account, region] = await Promise.all([ownAccountId(config), runtime.bucketRegions.regionOf(bucket).catch(() => undefined)]);
  return account && region ? { account, region } : undefined;
}

/** What a metadata-table run asked the table for: the journal's changes since the last verified run, or every current object and why. */
export function metadataDiffLine(diff: InventoryDiffSummary): string {
  if (diff.fallback) return `Every current object was read from the table: ${diff.fallback}.`;
  const recorded = diff.recordedVerdicts
    ? ` Recorded findings of the bucket after this run: ${VERDICTS.filter((v) => (diff.recordedVerdicts?.[v] ?? 0) > 0).map((v) => `${diff.recordedVerdicts?.[v]} ${v}`).join(', ') || 'none'}.`
    : '';
  return `Only what the journal records since the last verified run (evidence of ${diff.previousReportDate}) was read, with the rolling re-check's share of the KMS objects.${recorded}`;
}

/** What the report's rows were compared with: the last verified report (only changes audited), or why every row was read. */
export function diffLine(diff: InventoryDiffSummary): string {
  const reverify = diff.reverifyWindow
    ? ` Rolling re-check (every ${diff.reverifyWindow.days} days): ${diff.reverified} KMS objects HEADed for (${diff.reverifyWindow.after}, ${diff.reverifyWindow.until}].`
    : '';
  if (diff.fallback) {
    const previous = diff.previousManifestKey ? `the last verified report, of ${diff.previousReportDate} (${diff.previousManifestKey}): ` : '';
    return `Every row was read, none compared with an earlier report: ${previous}${diff.fallback}.${reverify}`;
  }
  const recorded = diff.recordedVerdicts
    ? ` Recorded findings of the bucket after this run: ${VERDICTS.filter((v) => (diff.recordedVerdicts?.[v] ?? 0) > 0).map((v) => `${diff.recordedVerdicts?.[v]} ${v}`).join(', ') || 'none'}.`
    : '';
  return `Compared with the last verified report of ${diff.previousReportDate} (${diff.previousManifestKey}): ${diff.unchangedSinceReport} rows unchanged, not audited again.${reverify}${recorded}`;
}

/** What the deletion rule did with the recorded objects the report did not list (shared/audit/inventory-absence.ts). */
export function absenceLine(absence: AbsenceOutcome): string {
  if (absence.notListed === 0 && absence.marksCleared === 0) return '0 recorded objects no longer listed were removed.';
  const removedWhy = [
    absence.removedBy404 ? `${absence.removedBy404} by a HeadObject 404` : '',
    absence.removedBySecondReport ? `${absence.removedBySecondReport} missing from the previous report too` : '',
  ].filter(Boolean);
  const kept = [
    absence.keptByHead ? `${absence.keptByHead} kept: HeadObject read them (the report missed them)` : '',
    absence.keptUnanswered
      ? `${absence.keptUnanswered} kept as recorded: no HeadObject could answer (${absence.marked} marked absent from this report: a 404 or the next report decides)`
      : '',
  ].filter(Boolean);
  const cleared = absence.marksCleared ? ` ${absence.marksCleared} marks of an earlier absence cleared (listed again, or read).` : '';
  return (
    `${absence.removed} recorded objects no longer listed were removed${removedWhy.length ? ` (${removedWhy.join(', ')})` : ''}; ` +
    `${absence.notListed} recorded objects were not listed${kept.length ? `: ${kept.join('; ')}` : ''}.${cleared}`
  );
}

function renderUnanswered(absence: AbsenceOutcome): string {
  const lines = [
    '',
    `${absence.keptUnanswered} recorded objects the report does not list were kept as recorded: the HeadObject that would say whether they are gone was throttled, failing, timed out or denied. Run the scan again.`,
    renderTable(
      ['key', 'why'],
      absence.unanswered.map((u) => [u.key, u.why]),
    ),
  ];
  return `${lines.join('\n')}\n`;
}

function renderChanges(changes: ObjectChange[]): string {
  return `${['', `Changed (${changes.length}):`, ...changes.map((change) => `  ${describeChange(change)}`)].join('\n')}\n`;
}

/**
 * Stores the run's policy (content-addressed) and counts the recorded findings in scope that another
 * policy judged: their verdicts are about to be made again under this one.
 */
async function policyChange(
  runtime: ReturnType<typeof createRuntime>,
  policy: ResolvedPolicy,
  options: Pick<ScanCommandOptions, 'bucket' | 'prefix'>,
): Promise<{ policy: PolicyId; overwrites?: { underOtherPolicies: number; withoutPolicy: number } }> {
  const id = await runtime.store.recordPolicy(policy);
  const recorded = await runtime.store.policiesIn(options.bucket, options.prefix);
  let underOtherPolicies = 0;
  for (const [hash, count] of recorded) if (hash !== id.hash && hash !== 'none') underOtherPolicies += count;
  if (underOtherPolicies === 0) return { policy: id };
  return { policy: id, overwrites: { underOtherPolicies, withoutPolicy: recorded.get('none') ?? 0 } };
}

function renderDelivery(delivery: DeliveryResult): string {
  const line = (name: string) => `${name}: ${delivery.delivered[name] ?? 0} sent${delivery.failed[name] ? `, ${delivery.failed[name]} left for the next run (still failing)` : ''}`;
  if (delivery.leaseHeldElsewhere) return '\nPushed changes: another deliverer (the stage\'s outbox-delivery function?) is draining the outbox: it sends this run\'s changes.\n';
  const others = delivery.leftForOthers ? ` ${delivery.leftForOthers} also wait for a destination this run does not push to (the stage's outbox-delivery function sends them there).` : '';
  return `\nPushed changes: ${Object.keys({ ...delivery.delivered, ...delivery.failed }).map(line).join('; ') || 'nothing changed'}.${others}\n`;
}

function renderBatchJobs(jobs: CreatedJob[], lines: string[]): string {
  const refused = lines.length > 0 ? ['', 'Not sent to S3 Batch Operations:', ...lines.map((line) => `  ${line}`)] : [];
  if (jobs.length === 0) return `${['', 'No S3 Batch Operations job was needed.', ...refused].join('\n')}\n`;
  return (
    [
      '',
      'S3 Batch Operations jobs (track and fold them with `sseguard jobs --wait`):',
      renderTable(
        ['job', 'target key', 'objects', 'manifest'],
        jobs.map((j) => [`${j.jobId}${j.resumed ? ' (resumed)' : ''}`, `${j.targetKey}${j.bucketKey ? ' +bucket key' : ''}`, j.objects, j.manifest]),
      ),
      ...refused,
    ].join('\n') + '\n'
  );
}

function whyNotAudited(finding: Finding): string {
  if (finding.remediation?.outcome === 'failed') return finding.remediation.detail ?? 'the fix failed';
  return finding.reasons.map((r) => r.message).join('; ') || 'a transient failure';
}

function renderNotAudited(count: number, examples: { key: string; why: string }[]): string {
  const lines = [
    '',
    `${count} objects were not audited this run (throttled, failing or timed out after every retry); their recorded findings were kept as they were. Run the scan again.`,
    renderTable(
      ['key', 'why'],
      examples.map((e) => [e.key, e.why]),
    ),
  ];
  return `${lines.join('\n')}\n`;
}

function renderSummary(
  result: ScanResult,
  seconds: number,
  options: ScanCommandOptions,
  examples: Finding[],
  table: string,
  aliases: ReadonlyMap<string, readonly string[]> = new Map(),
): string {
  const where = `s3://${result.bucket}/${result.prefix}`;
  const rate = result.objects / Math.max(seconds, 0.001);
  const inventory = 'inventory' in result ? (result as InventoryScanRunResult).inventory : undefined;
  const lines = [
    ...(inventory
      ? [
          (inventory.evidence === 'metadata-table'
            ? `Evidence: the S3 Metadata table as of ${inventory.reportDate} (query result ${inventory.manifestKey}): ${inventory.rows} rows, ` +
              `${inventory.byInventory} decided by the table, ${inventory.byHead} by HeadObject; `
            : `Evidence: the S3 Inventory report of ${inventory.reportDate} (${inventory.manifestKey}): ${inventory.rows} rows, ` +
              `${inventory.byInventory} decided by the inventory, ${inventory.byHead} by HeadObject; `) +
            (inventory.absence ? absenceLine(inventory.absence) : `${inventory.removed} recorded objects no longer listed were removed.`),
          inventory.evidence === 'inventory' ? diffLine(inventory.diff) : metadataDiffLine(inventory.diff),
        ]
      : []),
    `Scanned ${where}: ${result.objects} objects, ${formatBytes(result.bytes)} in ${seconds.toFixed(1)} s ` +
      `(${rate.toFixed(0)} objects/s at concurrency ${options.concurrency})`,
    '',
    renderTable(
      ['verdict', 'objects'],
      VERDICTS.map((v) => [v, result.verdicts[v] ?? 0]),
    ),
    '',
    renderTable(
      ['mode', 'objects'],
      Object.entries(result.modes).map(([mode, count]) => [mode, count ?? 0]),
    ),
  ];
  if (result.noncurrent) {
    const n = result.noncurrent;
    lines.push(
      '',
      `Noncurrent versions: ${n.objects} (${formatBytes(n.bytes)}); ` +
        VERDICTS.filter((v) => (n.verdicts[v] ?? 0) > 0).map((v) => `${n.verdicts[v]} ${v}`).join(', ') +
        ' — still exposure until they expire (a NoncurrentVersionExpiration lifecycle rule).',
    );
  }
  if (result.deleted) lines.push(`${result.deleted} objects whose current version is a delete marker were removed from the findings.`);
  const keys = Object.entries(result.kmsKeys);
  if (keys.length > 0) {
    lines.push(
      '',
      renderTable(
        ['KMS key', 'alias', 'objects', 'bytes', 'at-risk'],
        keys.map(([arn, exposure]) => [arn, aliases.get(arn)?.join(', ') || '-', exposure.objects, formatBytes(exposure.bytes), exposure.verdicts['at-risk'] ?? 0]),
      ),
    );
  }
  if (examples.length > 0) {
    lines.push(
      '',
      `Objects not proven compliant${examples.length === EXAMPLES_SHOWN ? ` (first ${EXAMPLES_SHOWN})` : ''}:`,
      renderTable(
        ['verdict', 'key', 'mode', 'reasons'],
        examples.map((f) => [f.verdict, f.key, f.mode ?? '-', f.reasons.map((r) => r.code).join(', ')]),
      ),
    );
  }
  lines.push('', options.record ? `Findings recorded in table ${table}.` : 'Findings not recorded (--no-record).');
  return `${lines.join('\n')}\n`;
}

function renderRemediation(mode: RemediationMode, fixable: number, remediation: ScanRemediation, planLines: string[]): string {
  if (mode === 'report') {
    return fixable === 0 ? '' : `\n${fixable} objects are set to be fixed by the policy: see the plan with --dry-run, fix them with --remediate.\n`;
  }
  const outcomes = Object.entries(remediation.outcomes).map(([outcome, n]) => [outcome, n] as [string, number]);
  if (mode === 'fix') {
    return outcomes.length === 0 ? '\nNothing to fix.\n' : `\nRemediation:\n${renderTable(['outcome', 'objects'], outcomes)}\n`;
  }
  const totals = remediation.totals!;
  const lines = ['', `Remediation plan (dry run: nothing was changed):`, ...planLines.map((line) => `  ${line}`), ''];
  lines.push(
    renderTable(
      ['action', 'objects'],
      Object.entries(totals.byAction).filter(([, n]) => n > 0).map(([action, n]) => [action, n] as [string, number]),
    ),
    '',
    `${totals.objects} objects; ${formatBytes(totals.bytesCopied)} would be copied; about ${totals.kmsRequests} KMS requests.`,
  );
  return `${lines.join('\n')}\n`;
}
