// `sseguard evidence`: gathers the findings table's history, builds the pack as of a time, re-checks
// a sample live, writes and signs it. `sseguard evidence verify`: checks a pack.
import { randomInt } from 'node:crypto';
import type { Writable } from 'node:stream';
import { ConfigError, type Config } from '#shared/config.ts';
import { createAwsClients } from '#shared/aws/clients.ts';
import { checkSample } from '#shared/evidence/sample.ts';
import { bucketsToSweep } from '#shared/sweep/buckets.ts';
import { kmsSigner, verifyPack, VERIFY_COMMAND } from '#shared/evidence/integrity.ts';
import type { EvidenceOptions } from '#shared/evidence/pack.ts';
import { producePack } from '#shared/evidence/produce.ts';
import { loadPolicy } from '#shared/policy-loader.ts';
import { createRuntime } from '#shared/runtime.ts';
import { write } from '../output/stream.ts';

export interface EvidenceCommandOptions {
  out?: string;
  asOf?: Date;
  window: number;
  bucket?: string[];
  account?: string[];
  org: boolean;
  sample?: number;
  seed?: number;
  signingKey?: string;
  policy?: string;
  json: boolean;
}

export async function evidenceCommand(config: Config, options: EvidenceCommandOptions, out: Writable = process.stdout): Promise<number> {
  if (!options.out) throw new ConfigError('--out <dir> is required: the folder the pack is written to');
  if (options.org && options.account) throw new ConfigError('--org and --account: give one (--org is every account recorded)');
  const generatedAt = new Date();
  if (options.asOf && options.asOf.getTime() > generatedAt.getTime()) throw new ConfigError('--as-of is in the future');
  const runtime = createRuntime(config);
  const policyPath = options.policy ?? config.policyPath;
  const policy = policyPath ? await loadPolicy(policyPath, runtime.keys) : undefined;
  const signingKey = options.signingKey ?? process.env.SSEGUARD_EVIDENCE_SIGNING_KEY ?? undefined;

  const evidenceOptions: EvidenceOptions = {
    asOf: options.asOf ?? generatedAt,
    reconstructed: options.asOf !== undefined,
    windowDays: options.window,
    scope: { ...(options.bucket ? { buckets: options.bucket } : {}), ...(options.account ? { accounts: options.account } : {}), ...(options.org ? { org: true } : {}) },
    generatedAt,
  };
  if (options.sample !== undefined && !policy && options.sample > 0) throw new ConfigError('--sample re-evaluates objects against the policy: give --policy or set $SSEGUARD_POLICY');
  const signer = signingKey ? kmsSigner(runtime.clients.kms, signingKey) : undefined;
  const seed = options.seed ?? randomInt(2 ** 31);
  const { pack, manifest } = await producePack(
    {
      documents: runtime.clients.documents,
      tableName: config.table,
      // Another account's buckets cannot be listed from here: with --account or --org, only recorded buckets.
      ...(options.account || options.org ? {} : { listBuckets: () => bucketsToSweep(runtime.clients.s3, ['*']) }),
      exemptions: policy?.exemptions ?? [],
      ...(signer ? { signer } : {}),
      ...(options.sample !== undefined
        ? { sample: { size: options.sample, seed, check: (drawn, drawnFrom) => checkSample(drawn, drawnFrom, { objects: runtime.objects, keys: runtime.keys, policy: policy! }, options.sample!, seed) } }
        : {}),
      gaps: policy ? [] : ['no policy given (--policy or $SSEGUARD_POLICY): exemptions are not listed'],
    },
    evidenceOptions,
    options.out,
  );

  const broken = pack.chains.problems.length > 0 || (pack.sample?.mismatches ?? 0) > 0;
  if (options.json) {
    await write(out, `${JSON.stringify({ out: options.out, asOf: pack.asOf, reconstructed: pack.reconstructed, files: manifest.files.length, signed: Boolean(signer), gaps: pack.gaps, population: pack.population, chains: pack.chains, ...(pack.sample ? { sample: pack.sample } : {}) }, null, 2)}\n`);
  } else {
    const lines = [
      `evidence pack written to ${options.out}: ${manifest.files.length} files, as of ${pack.asOf}${pack.reconstructed ? ' (reconstructed from history)' : ''}`,
      `population: ${pack.population.objects} objects, ${pack.totals.exceptions} not compliant; ${pack.coverage.length} buckets in scope${Array.isArray(pack.scope.accounts) ? ` of ${pack.scope.accounts.length} account(s): ${pack.scope.accounts.join(', ')}` : ''}`,
      ...pack.gaps.map((gap) => `GAP: ${gap}`),
      ...(pack.sample ? [`sample: ${pack.sample.rows.length} drawn with seed ${pack.sample.seed}: ${pack.sample.matches} match, ${pack.sample.mismatches} mismatch, ${pack.sample.couldNotCheck} could not be checked`] : []),
      ...(pack.sample?.rows.filter((r) => r.result === 'mismatch').map((r) => `MISMATCH: ${r.bucket}/${r.key}: ${r.differences.join('; ')}`) ?? []),
      signer ? `signed with ${signingKey}; verify offline in the pack folder with:\n  ${VERIFY_COMMAND}` : 'not signed',
    ];
    await write(out, `${lines.join('\n')}\n`);
  }
  return broken ? 1 : 0;
}

export async function verifyCommand(dir: string, options: { kms: boolean; json?: boolean }, out: Writable = process.stdout): Promise<number> {
  const problems = await verifyPack(dir, options.kms ? { kms: createAwsClients().kms } : {});
  if (options.json) await write(out, `${JSON.stringify({ pack: dir, verified: problems.length === 0, problems })}\n`);
  else await write(out, problems.length === 0 ? `${dir}: every file matches the manifest, the signature verifies, the history chains hold\n` : `${problems.join('\n')}\n`);
  return problems.length === 0 ? 0 : 1;
}
