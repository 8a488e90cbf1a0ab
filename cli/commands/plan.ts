// `sseguard plan`: what auditing and fixing a bucket will cost, from its newest S3 Inventory report,
// before a single HEAD or fix is paid for. Reads the report once (streamed), prices it with the
// dated table in shared/cost/prices.ts (or a JSON override), prints a table or JSON.
import { readFileSync } from 'node:fs';
import { createAwsClients } from '#shared/aws/clients.ts';
import { errorFacts, unreachableEndpoint } from '#shared/aws/errors.ts';
import { PolicyError } from '#shared/domain/policy.ts';
import { readPolicyFile } from '#shared/policy-loader.ts';
import { policyWouldFix } from '#shared/cost/policy-fix.ts';
import { CliError } from '../vocabulary.ts';
import { InventoryError } from '#shared/inventory/errors.ts';
import { parseInventoryLocation } from '#shared/inventory/manifest.ts';
import { s3InventorySource } from '#shared/inventory/source.ts';
import { planFor, type Cost, type FixTarget, type Plan } from '#shared/cost/estimate.ts';
import { PricesError, pricesWith } from '#shared/cost/prices.ts';
import { tallier } from '#shared/cost/tally.ts';
import { formatBytes, renderTable } from '../output/format.ts';

export interface PlanCommandOptions {
  bucket: string;
  inventory: string;
  inventoryId?: string;
  target: FixTarget;
  bucketKey: boolean;
  clientSide: boolean;
  region?: string;
  prices?: string;
  /** Price only the fixes this policy would make (remediate: true, mode not accepted). */
  policy?: string;
  /** The rolling re-check's period (else $SSEGUARD_REVERIFY_DAYS, else 30) and the hours between sweeps (else 24). */
  reverifyDays?: number;
  sweepIntervalHours?: number;
  json: boolean;
}

const money = (n: number) => `$${n < 100 ? n.toFixed(2) : Math.round(n).toLocaleString('en-US')}`;
const hours = (h: number) => (h < 1 / 60 ? `${Math.ceil(h * 3600)} s` : h < 1 ? `${(h * 60).toFixed(0)} min` : `${h.toFixed(1)} h`);
const int = (n: number) => n.toLocaleString('en-US');

function costRow(label: string, c: Cost): (string | number)[] {
  return [label, int(c.s3Requests), int(c.kmsCalls), money(c.dollars), hours(c.hours), c.pacedBy];
}

export function renderPlan(plan: Plan, reportKey: string): string {
  const lines: string[] = [];
  lines.push(`Plan for ${plan.bucket} from ${reportKey}${plan.inventoryDate ? ` (inventory of ${plan.inventoryDate})` : ''}`);
  lines.push(`Prices of ${plan.prices.date} (${plan.prices.region}): ${plan.prices.source}`);
  lines.push(
    `Pacing: KMS ${int(plan.rates.kmsPerSecond)}/s (${plan.rates.kmsShare * 100}% of the Region's quota), ` +
      `S3 ${int(plan.rates.s3ReadPerSecond)} reads/s and ${int(plan.rates.s3WritePerSecond)} writes/s over ${plan.rates.prefixesCapped ? 'at least ' : ''}${int(plan.rates.prefixes)} top-level prefix(es)`,
  );
  lines.push('', `${int(plan.objects)} objects, ${formatBytes(plan.bytes)}`);
  lines.push(
    renderTable(
      ['mode', 'current', 'bytes', 'noncurrent', 'bytes'],
      Object.entries(plan.byMode).map(([mode, t]) => [mode, t.current.objects, formatBytes(t.current.bytes), t.noncurrent.objects, formatBytes(t.noncurrent.bytes)]),
    ),
  );
  const keys = Object.entries(plan.byKey);
  if (keys.length > 0) {
    lines.push('', 'KMS objects by key ("unknown": the inventory does not name keys; a recorded finding or a HEAD does)');
    lines.push(renderTable(['key', 'objects', 'bytes'], keys.map(([key, c]) => [key, c.objects, formatBytes(c.bytes)])));
  }
  const header = ['', 'S3 requests', 'KMS calls', 'dollars', 'time', 'paced by'];
  lines.push('', 'Audit');
  lines.push(
    renderTable(header, [
      costRow('HEAD sweep (list + HEAD every object)', plan.audit.headSweep),
      costRow('inventory sweep, first (HEAD KMS objects once)', plan.audit.inventorySweepFirst),
      costRow('inventory sweep, later (HEAD changed objects)', plan.audit.inventorySweepSteady),
      costRow(
        `  + rolling re-check per sweep (every KMS object HEADed every ${plan.audit.reverify.days} days, sweeps ${plan.audit.reverify.sweepIntervalHours} h apart)`,
        plan.audit.reverify,
      ),
    ]),
  );
  lines.push('', `Fix to ${plan.fix.target}${plan.fix.target === 'sse-s3' ? '' : plan.fix.bucketKey ? ' with a bucket key' : ' without a bucket key'}`);
  lines.push(renderTable(['method', 'objects', 'bytes'], plan.fix.byMethod.map((m) => [m.method, m.objects, formatBytes(m.bytes)])));
  lines.push('');
  lines.push(
    renderTable(header, [
      costRow('per object (each fix verified by a HEAD)', plan.fix.perObject),
      costRow(`Batch Operations for updates (${plan.fix.batch.jobs} job), copies per object`, plan.fix.batch),
    ]),
  );
  return lines.join('\n');
}

export async function planCommand(options: PlanCommandOptions): Promise<number> {
  try {
    const prices = pricesWith(options.prices === undefined ? undefined : readFileSync(options.prices, 'utf8'), options.prices);
    const region = options.region ?? process.env.AWS_REGION ?? prices.region;
    const destination = parseInventoryLocation(options.inventory);
    const source = s3InventorySource(createAwsClients().s3, destination);
    const report = await source.newest(options.bucket, options.inventoryId === undefined ? {} : { configId: options.inventoryId });
    // The policy is read before the report: a bad policy fails in a moment, not after the rows.
    const policy = options.policy === undefined ? undefined : await readPolicyFile(options.policy);
    const tally = tallier({ partBytes: prices.assumptions.multipartPartBytes });
    // With a policy, the fix is priced over the objects it would fix; the audit over every object.
    const fixable = policy ? tallier({ partBytes: prices.assumptions.multipartPartBytes }) : undefined;
    const now = new Date();
    for await (const row of source.allRows(report)) {
      tally.add(row);
      if (policy && fixable && policyWouldFix(policy, row, now)) fixable.add(row);
    }
    const envDays = Number(process.env.SSEGUARD_REVERIFY_DAYS);
    const reverifyDays = options.reverifyDays ?? (Number.isInteger(envDays) && envDays >= 1 ? envDays : undefined);
    const planOptions = {
      region,
      target: options.target,
      bucketKey: options.bucketKey,
      clientSideMatters: options.clientSide,
      ...(reverifyDays ? { reverifyDays } : {}),
      ...(options.sweepIntervalHours ? { sweepIntervalHours: options.sweepIntervalHours } : {}),
    };
    const whole = planFor(options.bucket, tally.result(), prices, planOptions, report.manifest.createdAt);
    const plan = fixable ? { ...whole, fix: planFor(options.bucket, fixable.result(), prices, planOptions, report.manifest.createdAt).fix } : whole;
    const policyNote = policy
      ? { policy: { file: options.policy, note: 'fix priced over objects the policy would fix (remediate: true, mode not accepted); KMS objects under a key it does not list are not counted (the inventory names no key)' } }
      : {};
    const reportKey = `s3://${destination.bucket}/${report.location.key}`;
    console.log(
      options.json
        ? JSON.stringify({ report: reportKey, ...policyNote, ...plan }, null, 2)
        : `${renderPlan(plan, reportKey)}${policy ? `\n\nFix priced for what ${options.policy} would fix: ${policyNote.policy?.note}.` : '\n\nFix priced for every object not in the target mode (give --policy to price only what a policy would fix).'}`,
    );
    return 0;
  } catch (error) {
    if (error instanceof InventoryError || error instanceof PricesError) throw new CliError(error.message);
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new CliError(`cannot read the prices file ${options.prices}`);
    if (error instanceof PolicyError || unreachableEndpoint(error, undefined)) throw error;
    const { name, message } = errorFacts(error);
    throw new CliError(`${name}: ${message}`);
  }
}
