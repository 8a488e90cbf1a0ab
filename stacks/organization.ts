// The central stage of an Organization (SSEGUARD_ORGANIZATION_ID): an event bus that admits
// PutEvents from the Organization's accounts only, where each member's forwarding rules
// (`sseguard member-template`) put their S3 object events and KMS key-state events. Object events
// go to the audit queue unchanged (their `account` is the member's); key events to key events.
import { auditQueue } from './queue.ts';
import { CENTRAL_OBJECT_EVENT_PATTERN, KEY_EVENT_PATTERN, centralBusName, centralBusPolicyStatements, type StageSettings } from './settings.ts';

export function organizationBus(stage: StageSettings, stageName: string) {
  if (!stage.organization) return undefined;
  const bus = new aws.cloudwatch.EventBus('CentralBus', { name: centralBusName(stageName) });
  new aws.cloudwatch.EventBusPolicy('CentralBusPolicy', {
    eventBusName: bus.name,
    policy: aws.iam.getPolicyDocumentOutput({ statements: centralBusPolicyStatements(bus.arn, stage.organization.id) }).json,
  });
  const objectRule = new aws.cloudwatch.EventRule('MemberObjectEventsRule', {
    eventBusName: bus.name,
    description: "Member accounts' S3 Object Created/Deleted, to the audit queue",
    eventPattern: JSON.stringify(CENTRAL_OBJECT_EVENT_PATTERN),
  });
  new aws.cloudwatch.EventTarget('MemberObjectEventsTarget', { eventBusName: bus.name, rule: objectRule.name, arn: auditQueue.arn });
  return { bus, objectRule };
}

/** Members' KMS key-state calls on the central bus, to the key-events function. */
export function memberKeyEvents(bus: aws.cloudwatch.EventBus, keyEvents: sst.aws.Function) {
  const rule = new aws.cloudwatch.EventRule('MemberKeyEventsRule', {
    eventBusName: bus.name,
    description: "Member accounts' KMS key-state changes (CloudTrail), to sseguard key events",
    eventPattern: JSON.stringify(KEY_EVENT_PATTERN),
  });
  new aws.cloudwatch.EventTarget('MemberKeyEventsTarget', { eventBusName: bus.name, rule: rule.name, arn: keyEvents.arn });
  new aws.lambda.Permission('MemberKeyEventsPermission', {
    action: 'lambda:InvokeFunction',
    function: keyEvents.name,
    principal: 'events.amazonaws.com',
    sourceArn: rule.arn,
  });
  return rule;
}
