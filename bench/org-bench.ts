// `npm run bench -- --only org`: a sweep of 20 member accounts (two Regions, each through its own
// assumed role) against the single-account scan of the same objects, on a private emulator through
// the counting proxy (requests at the wire, per service:operation). Reports objects/s and API calls
// per object of each, the ratio (target ≥ 0.9), AssumeRole calls (target: one per account), and the
// projected wall time of 1,000 accounts at the measured per-account time and account concurrency.
// A report: exit 0 even when a target fails; exit 2 when the benchmark itself cannot run.
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { scanAccounts } from '#shared/accounts/account-scan.ts';
import { assumedRoleCredentials } from '#shared/accounts/credentials.ts';
import { createAwsClients } from '#shared/aws/clients.ts';
import { loadConfig } from '#shared/config.ts';
import { ensureFindingsTable } from '#shared/findings/dynamodb-store.ts';
import { loadPolicy } from '#shared/policy-loader.ts';
import { createRuntime } from '#shared/runtime.ts';
import { freePort, startEmulator, useEmulator } from '../cli/emulator-process.ts';
import { startFaultProxy } from '../test/support/fault-proxy.ts';
import { buildOrganization } from '../test/support/organization.ts';

const HELP = `Usage: npm run bench -- --only org [options]

Builds an Organization of N member accounts in two Regions on a private emulator, M objects each, and
the same number of objects in one bucket of the central account; times a sweep of every account
(scan --org's code) and the single-account scan, counting requests at the wire.

Options:
  --accounts N       member accounts (default 20)
  --objects M        objects per account besides the fixture's 3-4 (default 40)
  --concurrency C    objects audited at once per account (default 16)
  --account-concurrency A   accounts audited at once (default 4)
  --json             print one JSON object as the last line of stdout`;

const log = (line: string) => process.stderr.write(`${line}\n`);
const sum = (counts: Record<string, number>, filter: (name: string) => boolean = () => true) =>
  Object.entries(counts).filter(([name]) => filter(name)).reduce((total, [, n]) => total + n, 0);

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { accounts: { type: 'string', default: '20' }, objects: { type: 'string', default: '40' }, concurrency: { type: 'string', default: '16' }, 'account-concurrency': { type: 'string', default: '4' }, json: { type: 'boolean', default: false }, help: { type: 'boolean', default: false } },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const accounts = Number(values.accounts);
  const perAccount = Number(values.objects);
  const concurrency = Number(values.concurrency);
  const accountConcurrency = Number(values['account-concurrency']);
  for (const name of ['AWS_PROFILE', 'AWS_SESSION_TOKEN', 'AWS_DEFAULT_REGION', 'SSEGUARD_POLICY']) delete process.env[name];
  const emulator = await startEmulator({ port: await freePort() });
  const proxy = await startFaultProxy({ target: emulator.endpoint });
  try {
    useEmulator(emulator.endpoint, { AWS_REGION: 'us-east-1' });
    log(`emulator on ${emulator.endpoint}; building an Organization of ${accounts} accounts, ${perAccount} more objects each…`);
    const org = await buildOrganization({ members: accounts });
    for (const member of org.members) {
      for (let i = 0; i < perAccount; i++) {
        // The fixture disabled one account's key: S3 refuses writes under it.
        const kms = i % 2 === 0 && member.id !== org.atRisk;
        await member.clients.s3.send(new PutObjectCommand({ Bucket: member.bucket, Key: `bulk/${i}.txt`, Body: `object ${i}`, ServerSideEncryption: kms ? 'aws:kms' : 'AES256', ...(kms ? { SSEKMSKeyId: member.keyArn } : {}) }));
      }
    }
    // The same objects in one bucket of the central account, in the same modes (keys: one per account, as above).
    const central = createAwsClients({});
    await central.s3.send(new CreateBucketCommand({ Bucket: 'single-account-bench' }));
    const { CreateKeyCommand } = await import('@aws-sdk/client-kms');
    let objects = 0;
    for (const member of org.members) {
      const key = (await central.kms.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
      for (let i = 0; i < perAccount + 3; i++) {
        await central.s3.send(new PutObjectCommand({ Bucket: 'single-account-bench', Key: `${member.id}/${i}.txt`, Body: `object ${i}`, ServerSideEncryption: i % 2 ? 'AES256' : 'aws:kms', ...(i % 2 ? {} : { SSEKMSKeyId: key }) }));
        objects += 1;
      }
    }

    useEmulator(proxy.endpoint, { AWS_REGION: 'us-east-1' });
    const config = loadConfig();
    const runtime = createRuntime(config);
    await ensureFindingsTable(runtime.clients.dynamodb, config.table);
    const policy = await loadPolicy(undefined, runtime.keys);
    const sts = new STSClient({ region: 'us-east-1' });
    const centralAccount = (await sts.send(new GetCallerIdentityCommand({}))).Account!;
    const sweep = async (ids: string[], buckets?: string[]) => {
      const credentials = assumedRoleCredentials({ roleName: 'sseguard-audit' }, { sts });
      proxy.resetStats();
      const started = performance.now();
      const result = await scanAccounts(
        { credentials, clientOptions: { endpoints: config.endpoints, timeouts: config.timeouts, maxSockets: concurrency }, centralAccount, policy, store: runtime.store, region: 'us-east-1' },
        { accounts: ids, concurrency, accountConcurrency, ...(buckets ? { buckets } : {}) },
      );
      const seconds = (performance.now() - started) / 1000;
      const audited = result.accounts.reduce((total, a) => total + a.objects, 0);
      const requests = proxy.stats().requests;
      return { seconds, objects: audited, gaps: result.gaps.length, perSec: audited / seconds, callsPerObject: sum(requests) / audited, s3PerObject: sum(requests, (n) => n.startsWith('s3')) / audited, assumeRole: credentials.assumeCalls, requests };
    };
    log('single-account scan…');
    const single = await sweep([centralAccount], ['single-account-bench']);
    log(`sweep of ${accounts} accounts…`);
    const multi = await sweep(org.members.map((m) => m.id));
    const ratio = multi.perSec / single.perSec;
    const secondsPerAccount = multi.seconds / accounts;
    const projected1000Hours = (secondsPerAccount * 1000) / 3600;
    const figures = {
      accounts,
      objects: { single: single.objects, multi: multi.objects },
      perSec: { single: Number(single.perSec.toFixed(1)), multi: Number(multi.perSec.toFixed(1)) },
      ratio: Number(ratio.toFixed(3)),
      callsPerObject: { single: Number(single.callsPerObject.toFixed(3)), multi: Number(multi.callsPerObject.toFixed(3)) },
      assumeRole: multi.assumeRole,
      gaps: multi.gaps,
      secondsPerAccount: Number(secondsPerAccount.toFixed(3)),
      projected1000AccountsHours: Number(projected1000Hours.toFixed(2)),
      accountConcurrency,
      targets: { ratio: ratio >= 0.9 ? 'PASS' : 'FAIL', assumeRoleOncePerAccount: multi.assumeRole === accounts ? 'PASS' : 'FAIL' },
    };
    const lines = [
      `Organization sweep: ${accounts} accounts (2 Regions), ${multi.objects} objects; single account: ${single.objects} objects`,
      `objects/s          single ${figures.perSec.single}   ${accounts} accounts ${figures.perSec.multi}   ratio ${figures.ratio} (target ≥ 0.9: ${figures.targets.ratio})`,
      `API calls/object   single ${figures.callsPerObject.single}   ${accounts} accounts ${figures.callsPerObject.multi}   (wire requests, DynamoDB included)`,
      `AssumeRole calls   ${multi.assumeRole} for ${accounts} accounts (target one each: ${figures.targets.assumeRoleOncePerAccount}); gaps ${multi.gaps}`,
      `projected 1,000 accounts at this size: ${figures.projected1000AccountsHours} h in one process at ${accountConcurrency} accounts at once (${figures.secondsPerAccount} s per account measured)`,
      `requests of the ${accounts}-account sweep: ${JSON.stringify(multi.requests)}`,
    ];
    console.log(lines.join('\n'));
    if (values.json) console.log(JSON.stringify(figures));
    return 0;
  } finally {
    await proxy.close();
    await emulator.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(2);
  },
);
