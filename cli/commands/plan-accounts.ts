// `sseguard plan --org | --accounts …`: prices a whole Organization before anything runs. The same
// account loop as `scan --org` (shared/accounts/account-walk.ts): each account through its audit
// role, each bucket in its Region, counted from its own newest S3 Inventory report (else by
// listing), priced as `plan` prices one bucket, then summed per account and Region and in total.
// An account whose role cannot be assumed is a named gap, never a zero: exit 2, as `scan` does.
import { readFileSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { STSClient } from '@aws-sdk/client-sts';
import { AccountClientPool } from '#shared/accounts/client-pool.ts';
import { walkAccounts } from '#shared/accounts/account-walk.ts';
import { clientSettings } from '#shared/aws/clients.ts';
import type { Config } from '#shared/config.ts';
import { readPolicyFile } from '#shared/policy-loader.ts';
import { organizationPlan, type BucketPlan } from '#shared/cost/account-plan.ts';
import { tallyBucket } from '#shared/cost/bucket-tally.ts';
import { planFor, type FixTarget } from '#shared/cost/estimate.ts';
import { PricesError, pricesWith } from '#shared/cost/prices.ts';
import { formatBytes, renderTable } from '../output/format.ts';
import { write } from '../output/stream.ts';
import { CliError } from '../vocabulary.ts';
import { accountsInScope, callerAccount, memberCredentials, type AccountClients, type AccountScope } from './accounts.ts';

export interface PlanAccountsOptions extends AccountScope {
  buckets?: string[];
  regions?: string[];
  target: FixTarget;
  bucketKey: boolean;
  clientSide: boolean;
  prices?: string;
  policy?: string;
  json: boolean;
}

/** Accounts priced at once (each lists and reads its own buckets' reports). */
const ACCOUNT_CONCURRENCY = 4;

const money = (n: number) => `$${n < 100 ? n.toFixed(2) : Math.round(n).toLocaleString('en-US')}`;
const hours = (h: number) => (h < 1 / 60 ? `${Math.ceil(h * 3600)} s` : h < 1 ? `${(h * 60).toFixed(0)} min` : `${h.toFixed(1)} h`);

export async function planAccountsCommand(config: Config, options: PlanAccountsOptions, out: Writable = process.stdout, clients: AccountClients = {}): Promise<number> {
  let prices;
  try {
    prices = pricesWith(options.prices === undefined ? undefined : readFileSync(options.prices, 'utf8'), options.prices);
  } catch (error) {
    if (error instanceof PricesError) throw new CliError(error.message);
    throw new CliError(`cannot read the prices file ${options.prices}`);
  }
  const policy = options.policy === undefined ? undefined : await readPolicyFile(options.policy);
  const clientOptions = { endpoints: config.endpoints, timeouts: config.timeouts, region: config.region };
  const sts = clients.sts ?? new STSClient({ ...clientSettings('sts', clientOptions), region: config.region });
  const accounts = await accountsInScope(config, options, clients);
  const central = await callerAccount(sts);
  const credentials = memberCredentials(config, options, sts);
  const pool = new AccountClientPool({ credentials, clientOptions, ...(central ? { centralAccount: central } : {}) });
  const now = new Date();
  const buckets: BucketPlan[] = [];
  const planOptions = (region: string) => ({ region, target: options.target, bucketKey: options.bucketKey, clientSideMatters: options.clientSide });
  const walked = await walkAccounts(
    { pool, credentials, ...(central ? { centralAccount: central } : {}), region: config.region },
    { accounts, accountConcurrency: ACCOUNT_CONCURRENCY, ...(options.buckets?.length ? { buckets: options.buckets } : {}), ...(options.regions?.length ? { regions: options.regions } : {}) },
    async (account, bucket) => {
      const { s3 } = pool.clientsFor(account, bucket.region);
      const counted = await tallyBucket(s3, bucket.name, { partBytes: prices.assumptions.multipartPartBytes, now, ...(policy ? { policy } : {}) });
      const whole = planFor(bucket.name, counted.tally, prices, planOptions(bucket.region), counted.inventoryDate);
      const plan = counted.fixable ? { ...whole, fix: planFor(bucket.name, counted.fixable, prices, planOptions(bucket.region)).fix } : whole;
      buckets.push({ account, region: bucket.region, bucket: bucket.name, evidence: counted.evidence, ...(counted.reason ? { reason: counted.reason } : {}), plan });
    },
  );
  buckets.sort((a, b) => (a.account === b.account ? (a.bucket < b.bucket ? -1 : 1) : a.account < b.account ? -1 : 1));
  const { byAccountRegion, total } = organizationPlan(buckets, accounts, ACCOUNT_CONCURRENCY);
  const exitCode = walked.gaps.length > 0 ? 2 : 0;
  const priceTable = { date: prices.date, region: prices.region, source: prices.source };
  if (options.json) {
    const perBucket = buckets.map(({ plan, ...where }) => ({ ...where, objects: plan.objects, bytes: plan.bytes, audit: plan.audit, fix: plan.fix, ...(plan.inventoryDate ? { inventoryDate: plan.inventoryDate } : {}) }));
    await write(
      out,
      `${JSON.stringify({ prices: priceTable, target: options.target, bucketKey: options.bucketKey, ...(options.policy ? { policy: options.policy } : {}), accounts: walked.accounts, byAccountRegion, buckets: perBucket, total, gaps: walked.gaps, exitCode }, null, 2)}\n`,
    );
  } else {
    const lines = [
      `Plan for ${accounts.length} accounts: ${walked.accounts.filter((a) => a.status === 'covered').length} priced, ${walked.accounts.filter((a) => a.status === 'partial').length} partly, ${walked.accounts.filter((a) => a.status === 'gap').length} not at all.`,
      `Prices of ${prices.date} (${prices.region}): ${prices.source}`,
      '',
      renderTable(
        ['account', 'region', 'buckets', 'objects', 'bytes', 'HEAD sweep', 'inventory sweep (later)', `fix to ${options.target} per object`, 'fix with Batch', 'fix not priced'],
        byAccountRegion.map((p) => [
          p.account,
          p.region,
          `${p.buckets} (${p.fromInventory} by inventory)`,
          p.objects,
          formatBytes(p.bytes),
          `${money(p.audit.headSweep.dollars)}, ${hours(p.audit.headSweep.hours)}`,
          `${money(p.audit.inventorySweepSteady.dollars)}, ${hours(p.audit.inventorySweepSteady.hours)}`,
          `${money(p.fix.perObject.dollars)}, ${hours(p.fix.perObject.hours)}`,
          `${money(p.fix.batch.dollars)}, ${hours(p.fix.batch.hours)}`,
          p.unpricedFixObjects,
        ]),
      ),
      '',
      `Total: ${total.objects} objects, ${formatBytes(total.bytes)} in ${total.buckets} buckets of ${total.accounts} accounts. ` +
        `HEAD sweep ${money(total.audit.headSweep.dollars)} (${hours(total.audit.headSweep.hours)} at ${ACCOUNT_CONCURRENCY} accounts at once); ` +
        `fix ${money(total.fix.perObject.dollars)} per object or ${money(total.fix.batch.dollars)} with Batch Operations.`,
    ];
    if (total.unpricedFixObjects > 0) {
      lines.push(`${total.unpricedFixObjects} objects were counted by listing (no usable S3 Inventory report): their modes are unknown, so their fix is not priced (the fix figures are a floor).`);
    }
    if (walked.gaps.length > 0) {
      lines.push(
        '',
        `Not priced (${walked.gaps.length}): fix the access and plan again.`,
        renderTable(
          ['account', 'region', 'bucket', 'why'],
          walked.gaps.map((g) => [g.account, g.region ?? '-', g.bucket ?? '-', g.reason]),
        ),
      );
    }
    await write(out, `${lines.join('\n')}\n`);
  }
  return exitCode;
}
