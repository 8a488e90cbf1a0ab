// The sweep's dependencies: list buckets and keys, enqueue pages, keep its checkpoint, audit bucket
// posture. No remediator here: the sweep's role cannot change objects.
import { DescribeOrganizationCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { organizationAccounts } from '#shared/accounts/organization.ts';
import { clientSettings } from '#shared/aws/clients.ts';
import type { Config } from '#shared/config.ts';
import { ConfigError } from '#shared/config.ts';
import type { KeyEventDependencies } from '#shared/audit/reevaluate-key.ts';
import type { OrgSweepDependencies } from '#shared/sweep/org-sweep.ts';
import { OrgSweepRuns } from '#shared/findings/org-sweep-runs.ts';
import { centralAccount } from './member-accounts.ts';
import { traced } from './traced-clients.ts';
import type { PostureDependencies } from '#shared/posture/audit-posture.ts';
import { postureDependencies } from '#shared/posture/posture-dependencies.ts';
import { SqsQueues } from '#shared/queue/sqs-queue.ts';
import type { Runtime } from '#shared/runtime.ts';
import { s3CsvInventorySource } from '#shared/inventory/source.ts';
import { planBucketInventory } from '#shared/sweep/inventory-or-listing.ts';
import type { SweepDependencies } from '#shared/sweep/sweep.ts';
import { SweepRuns } from '#shared/findings/sweep-runs.ts';
import { handlerPolicy, handlerRuntime, memoized } from './runtime.ts';

/** What the sweep handler runs on (shared/sweep/sweep.ts SweepDependencies are the sweep's own ports, built from these). */
export interface SweepHandlerDependencies {
  config: Config;
  runtime: Runtime;
  queues: SqsQueues;
  sweepRuns: SweepRuns;
  posture: PostureDependencies;
  orgRuns: OrgSweepRuns;
  /** The key drift check's (shared/audit/key-drift.ts): the key-event path, run by the sweep. */
  keyCheck: KeyEventDependencies;
}

const sweeper = memoized<SweepHandlerDependencies>(async () => {
  const current = handlerRuntime();
  const queues = new SqsQueues(current.clients.sqs, current.config);
  const policy = await handlerPolicy();
  return {
    config: current.config,
    runtime: current,
    queues,
    sweepRuns: new SweepRuns(current.clients.documents, current.config.table),
    posture: postureDependencies(current, policy, { record: true }),
    orgRuns: new OrgSweepRuns(current.clients.documents, current.config.table),
    keyCheck: {
      objects: current.objects,
      keys: current.keys,
      store: current.store,
      // Only the key-event function may change a KMS key (kms:CancelKeyDeletion): the sweep raises
      // at-risk for a deletion it finds (with date and blast radius) and cancels nothing.
      policy: { ...policy, keyDeletion: { ...policy.keyDeletion, cancelWhileObjectsDepend: false } },
      queue: queues,
      deletions: {
        cancelDeletion: () => Promise.reject(new Error('the sweep cancels no key deletion (only the key-event function may)')),
      },
    },
  };
});

export const sweepDependencies = (): Promise<SweepHandlerDependencies> => sweeper.get();

/** How the sweep asks whether an inventory report covers a bucket (SSEGUARD_SWEEP_INVENTORY=auto). */
export function sweepInventory(deps: SweepHandlerDependencies): NonNullable<SweepDependencies['inventory']> {
  const { s3 } = deps.runtime.clients;
  return {
    plan: (bucket) =>
      planBucketInventory(
        { s3, formats: ['CSV'], source: (destination) => s3CsvInventorySource(s3, destination), lastSwept: (b) => deps.sweepRuns.lastSweptReport(b) },
        bucket,
        { now: new Date(), maxAgeMs: deps.config.sweepInventoryMaxAgeHours * 3_600_000 },
      ),
    report: (bucket, manifestKey, destination) => s3CsvInventorySource(s3, destination).at(bucket, manifestKey),
    // SSEGUARD_ATHENA_DIFF_TABLE: one message per report, which the worker sweeps from its diff in Athena.
    ...(deps.config.athenaDiff ? { fromDiff: true } : {}),
  };
}

let organizations: OrganizationsClient | undefined;

/**
 * The Organization fan-out's ports (SSEGUARD_ORGANIZATION_ID): ACTIVE accounts in scope from
 * Organizations (OUs, tags, exclusions), without the central account, whose monitored buckets the
 * stage's own sweep covers. The credentials must be the configured Organization's (its management
 * or a delegated administrator account): DescribeOrganization says, else nothing is listed.
 */
export function orgSweepDependencies(deps: SweepHandlerDependencies): OrgSweepDependencies {
  const { config } = deps;
  const org = config.organization!;
  organizations ??= traced(new OrganizationsClient({ ...clientSettings('organizations', { endpoints: config.endpoints, timeouts: config.timeouts }), region: config.region }));
  const client = organizations;
  return {
    runs: deps.orgRuns,
    queue: deps.queues,
    accounts: async () => {
      const { Organization } = await client.send(new DescribeOrganizationCommand({}));
      if (Organization?.Id !== org.id) throw new ConfigError(`SSEGUARD_ORGANIZATION_ID is ${org.id}, but these credentials are in Organization ${Organization?.Id ?? '(none)'}: nothing swept`);
      const central = await centralAccount(config);
      const listed = await organizationAccounts(client, {
        ...(org.ous.length ? { ous: org.ous } : {}),
        exclude: [...org.exclude, ...(central ? [central] : [])],
        ...(Object.keys(org.tags).length ? { tags: org.tags } : {}),
      });
      return listed.map((a) => a.id);
    },
  };
}

/** Forgets the Organizations client (tests). */
export function resetOrgSweepClient(): void {
  organizations = undefined;
}
