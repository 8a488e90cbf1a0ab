// The scheduled pack's dependencies: the findings table (read), ListBuckets for coverage, the KMS
// signing key, PutObject into the evidence bucket, and the stage's policy file for its exemptions
// (read, not resolved: exemptions name no key, so no KMS call). No inspector: the scheduled pack
// draws no live sample (the CLI does, with --sample).
import { createAwsClients } from '#shared/aws/clients.ts';
import { kmsSigner } from '#shared/evidence/integrity.ts';
import { readPolicyFile } from '#shared/policy-loader.ts';
import { producePack } from '#shared/evidence/produce.ts';
import { evidenceDestination, type ScheduledPackDependencies } from '#shared/evidence/scheduled.ts';
import { bucketsToSweep } from '#shared/sweep/buckets.ts';
import { linkedConfig } from './linked-config.ts';
import { traceClients } from './traced-clients.ts';

export function evidencePackDependencies(env: NodeJS.ProcessEnv = process.env): ScheduledPackDependencies {
  const config = linkedConfig(env);
  if (!env.SSEGUARD_EVIDENCE_BUCKET) throw new Error('SSEGUARD_EVIDENCE_BUCKET is not set: the bucket (and prefix) scheduled packs are written to');
  const destination = evidenceDestination(env.SSEGUARD_EVIDENCE_BUCKET);
  const clients = traceClients(createAwsClients({ endpoints: config.endpoints, timeouts: config.timeouts }));
  const signingKey = env.SSEGUARD_EVIDENCE_SIGNING_KEY?.trim();
  const signer = signingKey ? kmsSigner(clients.kms, signingKey) : undefined;
  return {
    s3: clients.s3,
    destination,
    produce: async (dir, options) => {
      // The stage's policy (SSEGUARD_POLICY, copied into the package): its exemptions, with owner and expiry.
      const exemptions = config.policyPath ? (await readPolicyFile(config.policyPath)).exemptions : [];
      const gaps = ['scheduled pack: no live sample is drawn (run `sseguard evidence --sample N` for one)'];
      if (!config.policyPath) gaps.push('the stage has no policy file (SSEGUARD_POLICY_FILE at deploy): the default policy has no exemptions to list');
      return (
        await producePack(
          {
            documents: clients.documents,
            tableName: config.table,
            // The stage's monitored buckets: one of them never audited is a gap on the pack's first page.
            listBuckets: () => bucketsToSweep(clients.s3, config.sweepBuckets),
            exemptions,
            ...(signer ? { signer } : {}),
            gaps,
          },
          options,
          dir,
        )
      ).manifest;
    },
  };
}
