// `sseguard posture`: audits a bucket's own encryption posture (default encryption, SSE-C blocking,
// TLS-only and encrypted-upload policy statements) and, with --remediate, fixes what the policy asks.
import type { Writable } from 'node:stream';
import type { Config } from '#shared/config.ts';
import type { PostureFinding } from '#shared/domain/posture-finding.ts';
import { isFailingVerdict } from '#shared/domain/verdict.ts';
import { loadPolicy } from '#shared/policy-loader.ts';
import { auditPosture, remediatePosture } from '#shared/posture/audit-posture.ts';
import { postureDependencies } from '#shared/posture/posture-dependencies.ts';
import type { PlannedChange } from '#shared/domain/posture-change.ts';
import { createRuntime } from '#shared/runtime.ts';
import { renderTable } from '../output/format.ts';
import { write } from '../output/stream.ts';

export interface PostureCommandOptions {
  bucket: string;
  policy?: string;
  remediate: boolean;
  dryRun: boolean;
  json: boolean;
  record: boolean;
}

/** The posture as a few lines of text: verdict, facts, reasons. Also used by `scan`. */
export function renderPosture(finding: PostureFinding): string {
  const d = finding.defaultEncryption;
  const defaultText =
    d.status === 'configured'
      ? `${d.mode}${d.kmsKeyArn ? ` with ${d.kmsKeyArn}${d.kmsKeyState ? ` (${d.kmsKeyState})` : ''}` : ''}, bucket key ${d.bucketKeyEnabled ? 'on' : 'off'}`
      : d.status;
  const lines = [
    `Bucket posture of ${finding.bucket}: ${finding.verdict}`,
    renderTable(
      ['check', 'state'],
      [
        ['default encryption', defaultText],
        ['SSE-C uploads', finding.sseC === 'unknown' ? 'unknown (not returned by S3)' : finding.sseC],
        ['bucket policy', finding.policy],
        ['TLS required', finding.tls],
        ['unencrypted puts', finding.unencryptedPuts],
      ],
    ),
  ];
  if (finding.reasons.length > 0) lines.push('', ...finding.reasons.map((r) => `  ${r.code}: ${r.message}`));
  if (finding.notes.length > 0) lines.push('', 'Notes:', ...finding.notes.map((n) => `  ${n}`));
  return `${lines.join('\n')}\n`;
}

function renderChange(change: PlannedChange): string {
  if (change.kind === 'bucket-policy') return `bucket policy (fixes ${change.fixes.join(', ')}):\n${change.diff}`;
  return (
    `default encryption (fixes ${change.fixes.join(', ')}):\n` +
    `- ${change.before === null ? '(none)' : JSON.stringify(change.before)}\n+ ${JSON.stringify(change.after)}`
  );
}

export async function postureCommand(config: Config, options: PostureCommandOptions, out: Writable = process.stdout): Promise<number> {
  const runtime = createRuntime(config);
  const policy = await loadPolicy(options.policy ?? runtime.config.policyPath, runtime.keys);
  const deps = postureDependencies(runtime, policy, { record: options.record });

  if (!options.remediate) {
    const { finding } = await auditPosture(deps, options.bucket);
    await write(out, options.json ? `${JSON.stringify({ posture: finding })}\n` : renderPosture(finding));
    return isFailingVerdict(finding.verdict) ? 1 : 0;
  }

  const outcome = await remediatePosture({ ...deps, s3: runtime.clients.s3 }, options.bucket, { dryRun: options.dryRun });
  const final = outcome.after?.finding ?? outcome.audit.finding;
  if (options.json) {
    await write(
      out,
      `${JSON.stringify({
        posture: outcome.audit.finding,
        plan: outcome.plan,
        applied: outcome.result?.applied ?? [],
        refused: outcome.result?.refused ?? outcome.plan.refused,
        ...(outcome.withheld ? { withheld: outcome.withheld } : {}),
        ...(outcome.after ? { after: outcome.after.finding } : {}),
      })}\n`,
    );
    return isFailingVerdict(final.verdict) ? 1 : 0;
  }
  const lines = [renderPosture(outcome.audit.finding)];
  if (outcome.plan.changes.length === 0 && outcome.plan.refused.length === 0) lines.push('Nothing to change.');
  if (outcome.plan.changes.length > 0) {
    lines.push(outcome.result ? 'Changes made:' : `Changes planned, not made (${outcome.withheld}):`);
    for (const change of outcome.plan.changes) lines.push(renderChange(change), '');
  }
  for (const refused of outcome.result?.refused ?? outcome.plan.refused) lines.push(`Not changed: ${refused.kind}: ${refused.reason}`);
  for (const change of outcome.result?.applied ?? []) lines.push(`Recorded change ${change.id} (${change.kind}); undo with: sseguard rollback --bucket ${change.bucket} --change ${change.id}`);
  if (outcome.after) lines.push('', renderPosture(outcome.after.finding));
  await write(out, `${lines.join('\n')}\n`);
  return isFailingVerdict(final.verdict) ? 1 : 0;
}
