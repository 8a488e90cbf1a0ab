// The four Lambda functions, each with the IAM statements of stacks/settings.ts (no `link`
// permissions: the links are sst.Linkable names only) and the same runtime settings.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { monitoredBuckets } from './buckets.ts';
import { memberKeyEvents, organizationBus } from './organization.ts';
import { auditQueue, auditQueueLink, deadLetterQueue, deadLetterQueueLink } from './queue.ts';
import {
  ARCHITECTURE,
  AUDIT_QUEUE,
  EVIDENCE_PACK,
  FUNCTIONS,
  KEY_EVENT_PATTERN,
  NODEJS_BUNDLE,
  OUTBOX_DELIVERY,
  POLICY_IN_PACKAGE,
  RUNTIME,
  S3_IN_ANY_REGION,
  SWEEP,
  evidencePackEnvironment,
  athenaDiffScope,
  evidencePackScope,
  eventBusArn,
  functionEnvironment,
  iamStatements,
  inventoryScope,
  memberRoleScope,
  securityHubProductArn,
  stageSettings,
  type FunctionName,
  type IamScope,
} from './settings.ts';
import { findings, findingsLink, idempotency, idempotencyLink } from './storage.ts';

export const stage = stageSettings($app.stage, process.env);
/** With SSEGUARD_ORGANIZATION_ID: the central bus member accounts forward their events to. */
export const organization = organizationBus(stage, $app.stage);
export const buckets = monitoredBuckets(stage, organization ? [organization.objectRule.arn] : []);

const account = aws.getCallerIdentityOutput().accountId;
// The Region outbox delivery's bus (by name) and Security Hub product are in.
const region = aws.getRegionOutput().name;
const partition = aws.getPartitionOutput().partition;

const scope: IamScope<$util.Input<string>> = {
  buckets: buckets.arns,
  objects: buckets.objectArns,
  findingsTable: [findings.arn, $interpolate`${findings.arn}/index/*`],
  idempotencyTable: [idempotency.arn],
  auditQueue: [auditQueue.arn],
  deadLetterQueue: [deadLetterQueue.arn],
  // Every Region of the account: a bucket or an object may use a key of any Region it has buckets in.
  auditKeys: stage.auditKeyArns ?? [$interpolate`arn:${partition}:kms:*:${account}:key/*`],
  targetKeys: stage.targetKeyArns,
  // The sweep and the worker read inventory reports where S3 delivers them (SSEGUARD_INVENTORY_DESTINATION).
  ...inventoryScope(stage, (resource) => $interpolate`arn:${partition}:s3:::${resource}`),
  // sts:AssumeRole on the member role names, in any account of the Organization (SSEGUARD_ORGANIZATION_ID).
  ...memberRoleScope(stage, (resource) => $interpolate`arn:${partition}:iam::*:${resource}`, (resource) => $interpolate`arn:${partition}:organizations::*:${resource}`),
  // The scheduled pack (SSEGUARD_EVIDENCE_BUCKET): PutObject under its prefix, Sign with its key.
  ...evidencePackScope<$util.Input<string>>(stage, (resource) => $interpolate`arn:${partition}:s3:::${resource}`, (arn) => arn),
  // The worker's report diff in Athena (SSEGUARD_ATHENA_DIFF_TABLE): its workgroup, Glue table and output location.
  ...athenaDiffScope<$util.Input<string>>(stage, {
    workGroup: (name) => $interpolate`arn:${partition}:athena:${region}:${account}:workgroup/${name}`,
    glue: (resource) => $interpolate`arn:${partition}:glue:${region}:${account}:${resource}`,
    s3: (resource) => $interpolate`arn:${partition}:s3:::${resource}`,
  }),
  // Outbox delivery's destinations, only when the stage pushes there.
  ...(stage.integrations?.eventBus ? { eventBus: [$resolve([partition, region, account]).apply(([p, r, a]) => eventBusArn(stage.integrations!.eventBus!, { partition: String(p), region: String(r), account: String(a) }))] } : {}),
  // Every Region's default product of this account: a central finding is imported in its bucket's (or key's) Region.
  ...(stage.integrations?.securityHub ? { securityHubProduct: [$resolve([partition, account]).apply(([p, a]) => securityHubProductArn({ partition: String(p), region: '*', account: String(a) }))] } : {}),
};

const links = [findingsLink, idempotencyLink, auditQueueLink, deadLetterQueueLink];

const sweepBuckets = $resolve(buckets.names).apply((names) => names.join(','));

/** The policy as the functions read it: JSON. A YAML policy is converted here, on the deploying machine. */
function packagedPolicy(policyFile: string): string {
  if (!/\.ya?ml$/i.test(policyFile)) return policyFile;
  const converted = join('.sst', 'sseguard', POLICY_IN_PACKAGE(policyFile));
  mkdirSync(join('.sst', 'sseguard'), { recursive: true });
  writeFileSync(converted, JSON.stringify(parseYaml(readFileSync(policyFile, 'utf8'))));
  return converted;
}

function functionArgs(name: FunctionName) {
  const settings = FUNCTIONS[name];
  return {
    handler: settings.handler,
    description: settings.description,
    runtime: RUNTIME,
    architecture: ARCHITECTURE,
    timeout: `${settings.timeoutSeconds} seconds` as const,
    memory: `${settings.memoryMb} MB` as const,
    concurrency: { reserved: settings.reservedConcurrency },
    link: links,
    // Statements with no resource (no target key configured) are left out, not widened.
    permissions: iamStatements(name, scope, S3_IN_ANY_REGION)
      .filter((statement) => statement.resources.length > 0)
      .map(({ actions, resources, conditions }) => ({ actions, resources, ...(conditions ? { conditions } : {}) })),
    // The deploying account, known at deploy time: the functions stamp it on their own findings without an
    // STS GetCallerIdentity per message (which a VPC without an STS endpoint would wait out every time).
    environment: { ...functionEnvironment(stage, sweepBuckets), SSEGUARD_ACCOUNT_ID: account, ...(name === 'evidencePack' ? evidencePackEnvironment(stage) : {}) },
    nodejs: NODEJS_BUNDLE,
    ...(stage.policyFile ? { copyFiles: [{ from: packagedPolicy(stage.policyFile), to: POLICY_IN_PACKAGE(stage.policyFile) }] } : {}),
    transform: { function: { tracingConfig: { mode: 'Active' } } },
  };
}

/** The worker: partial batch responses, so one bad message never fails its neighbours. */
export const auditWorker = auditQueue.subscribe(functionArgs('auditWorker'), {
  batch: { size: AUDIT_QUEUE.batchSize, window: `${AUDIT_QUEUE.batchWindowSeconds} seconds`, partialResponses: AUDIT_QUEUE.partialBatchResponses },
});

export const sweep = new sst.aws.CronV2('Sweep', { schedule: SWEEP.schedule, function: functionArgs('sweep') });

/** CloudTrail's KMS calls on the default bus (the account needs a trail for management events). */
export const keyEvents = new sst.aws.Function('KeyEvents', functionArgs('keyEvents'));
const keyEventRule = new aws.cloudwatch.EventRule('KeyEventRule', {
  description: 'KMS key-state changes (CloudTrail) to sseguard key events',
  eventPattern: JSON.stringify(KEY_EVENT_PATTERN),
});
new aws.cloudwatch.EventTarget('KeyEventTarget', { rule: keyEventRule.name, arn: keyEvents.arn });
if (organization) memberKeyEvents(organization.bus, keyEvents);
new aws.lambda.Permission('KeyEventPermission', {
  action: 'lambda:InvokeFunction',
  function: keyEvents.name,
  principal: 'events.amazonaws.com',
  sourceArn: keyEventRule.arn,
});

/** With SSEGUARD_EVIDENCE_BUCKET: the signed pack of the month before, on the 1st (SSEGUARD_EVIDENCE_SCHEDULE). */
export const evidencePack = stage.evidencePack
  ? new sst.aws.CronV2('EvidencePack', {
      schedule: stage.evidencePack.schedule as `cron(${string})`,
      function: { ...functionArgs('evidencePack'), storage: `${EVIDENCE_PACK.ephemeralStorageMb} MB` },
    })
  : undefined;
/** With SSEGUARD_EVENT_BUS or SSEGUARD_SECURITY_HUB=on: the outbox the other functions write is sent every minute. */
export const outboxDelivery = stage.integrations ? new sst.aws.CronV2('OutboxDelivery', { schedule: OUTBOX_DELIVERY.schedule, function: functionArgs('outboxDelivery') }) : undefined;

/** The roles member accounts trust (`sseguard member-template --central-role-arn`). */
export const centralRoleArns = [auditWorker.nodes.function.role, sweep.nodes.function.role, keyEvents.nodes.role.arn];

export { functionArgs };
