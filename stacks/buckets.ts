// The monitored buckets. Buckets the app creates notify the audit queue themselves (`notify`);
// existing buckets (SSEGUARD_EXISTING_BUCKETS) reach it through an EventBridge rule on S3's
// "Object Created" events, which needs EventBridge notifications turned on for each of them.
// With SSEGUARD_INVENTORY_DESTINATION each also gets the S3 Inventory configuration the audit needs.
import { auditQueue } from './queue.ts';
import { BUCKET_NOTIFICATION_EVENTS, bucketInventory, objectCreatedPattern, type StageSettings } from './settings.ts';

/** `senderRules`: further EventBridge rules that target the audit queue (the Organization's central bus). */
export function monitoredBuckets(stage: StageSettings, senderRules: $util.Input<string>[] = []) {
  const partition = aws.getPartitionOutput().partition;
  const account = aws.getCallerIdentityOutput().accountId;

  const created = stage.createdBuckets.map((name) => {
    const bucket = new sst.aws.Bucket(name, { versioning: true, enforceHttps: true });
    bucket.notify({ notifications: [{ name: 'Audit', queue: auditQueue, events: [...BUCKET_NOTIFICATION_EVENTS] }] });
    return bucket;
  });

  const rule =
    stage.existingBuckets.length > 0
      ? new aws.cloudwatch.EventRule('ObjectCreatedRule', {
          description: 'S3 Object Created in existing monitored buckets, to the audit queue',
          eventPattern: JSON.stringify(objectCreatedPattern(stage.existingBuckets)),
        })
      : undefined;
  if (rule) new aws.cloudwatch.EventTarget('ObjectCreatedTarget', { rule: rule.name, arn: auditQueue.arn });

  const eventRules = [...(rule ? [rule.arn] : []), ...senderRules];
  // One queue policy: S3 (only the app's buckets, only this account) and the rules may send. Bucket
  // `notify` writes SST's own, broader policy on the queue; this transform makes every queue
  // policy of the app this one, so they never disagree.
  const policy = aws.iam.getPolicyDocumentOutput({
    statements: [
      ...(created.length > 0
        ? [{
            actions: ['sqs:SendMessage'],
            resources: [auditQueue.arn],
            principals: [{ type: 'Service', identifiers: ['s3.amazonaws.com'] }],
            conditions: [
              { test: 'ArnLike', variable: 'aws:SourceArn', values: created.map((b) => b.arn) },
              { test: 'StringEquals', variable: 'aws:SourceAccount', values: [account] },
            ],
          }]
        : []),
      ...(eventRules.length > 0
        ? [{
            actions: ['sqs:SendMessage'],
            resources: [auditQueue.arn],
            principals: [{ type: 'Service', identifiers: ['events.amazonaws.com'] }],
            conditions: [{ test: 'ArnEquals', variable: 'aws:SourceArn', values: eventRules }],
          }]
        : []),
    ],
  }).json;
  $transform(aws.sqs.QueuePolicy, (args: aws.sqs.QueuePolicyArgs) => {
    args.policy = policy;
  });
  new aws.sqs.QueuePolicy('AuditQueuePolicy', { queueUrl: auditQueue.url, policy });

  const names = [...created.map((b) => b.name), ...stage.existingBuckets];

  // SSEGUARD_INVENTORY_DESTINATION: a daily S3 Inventory on every monitored bucket, so the sweep
  // stands on its reports instead of a HEAD per object.
  if (stage.inventory) {
    const inventory = stage.inventory;
    // A created bucket's name is known at deploy time only; it is never the (existing) destination.
    created.forEach((bucket, i) => new aws.s3.Inventory(`${stage.createdBuckets[i]}Inventory`, { bucket: bucket.name, ...bucketInventory(stage.createdBuckets[i]!.toLowerCase(), inventory) }));
    stage.existingBuckets.forEach((name, i) => new aws.s3.Inventory(`ExistingBucketInventory${i}`, { bucket: name, ...bucketInventory(name, inventory) }));
  }
  return {
    created,
    /** Bucket names (created ones resolve at deploy time). */
    names,
    arns: names.map((name) => $interpolate`arn:${partition}:s3:::${name}`),
    objectArns: names.map((name) => $interpolate`arn:${partition}:s3:::${name}/*`),
  };
}
