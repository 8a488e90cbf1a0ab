// Each function's IAM actions equal what its code can send, computed from the code (see
// test/support/sdk-calls.ts for how) and mapped to IAM actions by the table below. Transactions
// are authorised item by item, so their actions come from the item kinds the code builds
// (./transaction-items.ts).
import { describe, expect, it } from 'vitest';
import { athenaDiffScope, eventBusArn, functionEnvironment, iamStatements, S3_IN_ANY_REGION, securityHubProductArn, stageSettings, type FunctionName, type IamScope } from '../../stacks/settings.ts';
import { auditStatements } from '../../shared/deploy/member-template.ts';
import { bundleForAnalysis, sdkCallsInBundle, type SdkCall } from '../support/sdk-calls.ts';
import { transactionItemKindsInBundle, type TransactionItemKind } from './transaction-items.ts';

/**
 * SDK operation → IAM actions (Service Authorization Reference; S3 "Actions, resources, and
 * condition keys"). Version-specific actions are included where the code passes a VersionId
 * (HeadObject, GetObjectAcl, GetObjectTagging, CopyObject/UploadPartCopy sources). The KMS
 * actions of the S3 writes are the ones S3 needs on the caller's behalf for SSE-KMS sources
 * (Decrypt, ReEncryptFrom) and targets (GenerateDataKey, Encrypt, ReEncryptTo); the copy keeps
 * ACL grants, tags and Object Lock settings, hence PutObjectAcl/Tagging/Retention/LegalHold.
 */
const IAM_ACTIONS: Record<string, string[]> = {
  's3 HeadObject': ['s3:GetObject', 's3:GetObjectVersion'],
  // Inventory reports (manifest.json, manifest.checksum, data files): current objects only, no VersionId.
  's3 GetObject': ['s3:GetObject'],
  's3 ListBucketInventoryConfigurations': ['s3:GetInventoryConfiguration'],
  's3 ListObjectsV2': ['s3:ListBucket'],
  's3 ListObjectVersions': ['s3:ListBucketVersions'],
  's3 ListBuckets': ['s3:ListAllMyBuckets'],
  // A bucket's Region where ListBuckets leaves BucketRegion out (shared/accounts/account-buckets.ts).
  's3 GetBucketLocation': ['s3:GetBucketLocation'],
  // The bucket's Region, asked once per bucket (shared/aws/bucket-regions.ts).
  's3 HeadBucket': ['s3:ListBucket'],
  's3 GetObjectAcl': ['s3:GetObjectAcl', 's3:GetObjectVersionAcl'],
  's3 GetObjectTagging': ['s3:GetObjectTagging', 's3:GetObjectVersionTagging'],
  's3 GetBucketEncryption': ['s3:GetEncryptionConfiguration'],
  's3 GetBucketPolicy': ['s3:GetBucketPolicy'],
  's3 UpdateObjectEncryption': ['s3:UpdateObjectEncryption', 'kms:Decrypt', 'kms:ReEncryptFrom', 'kms:GenerateDataKey', 'kms:Encrypt', 'kms:ReEncryptTo'],
  's3 CopyObject': ['s3:GetObject', 's3:GetObjectVersion', 's3:PutObject', 's3:PutObjectAcl', 's3:PutObjectTagging', 's3:PutObjectRetention', 's3:PutObjectLegalHold', 'kms:Decrypt', 'kms:GenerateDataKey'],
  's3 CreateMultipartUpload': ['s3:PutObject', 's3:PutObjectAcl', 's3:PutObjectTagging', 's3:PutObjectRetention', 's3:PutObjectLegalHold', 'kms:GenerateDataKey'],
  's3 UploadPartCopy': ['s3:GetObject', 's3:GetObjectVersion', 's3:PutObject', 'kms:Decrypt', 'kms:GenerateDataKey'],
  's3 CompleteMultipartUpload': ['s3:PutObject', 'kms:Decrypt'],
  's3 AbortMultipartUpload': ['s3:AbortMultipartUpload'],
  'kms DescribeKey': ['kms:DescribeKey'],
  'kms GetKeyRotationStatus': ['kms:GetKeyRotationStatus'],
  'kms ListAliases': ['kms:ListAliases'],
  'kms CancelKeyDeletion': ['kms:CancelKeyDeletion'],
  // The scheduled evidence pack: signs its manifest, and exports the key's public half into the pack.
  'kms Sign': ['kms:Sign'],
  'kms GetPublicKey': ['kms:GetPublicKey'],
  // The scheduled evidence pack's files, into the evidence bucket.
  's3 PutObject': ['s3:PutObject'],
  'dynamodb GetItem': ['dynamodb:GetItem'],
  'dynamodb Scan': ['dynamodb:Scan'],
  'dynamodb PutItem': ['dynamodb:PutItem'],
  'dynamodb UpdateItem': ['dynamodb:UpdateItem'],
  'dynamodb DeleteItem': ['dynamodb:DeleteItem'],
  'dynamodb Get': ['dynamodb:GetItem'],
  'dynamodb Put': ['dynamodb:PutItem'],
  'dynamodb Update': ['dynamodb:UpdateItem'],
  'dynamodb Delete': ['dynamodb:DeleteItem'],
  'dynamodb Query': ['dynamodb:Query'],
  'dynamodb BatchGet': ['dynamodb:BatchGetItem'],
  'dynamodb BatchWrite': ['dynamodb:BatchWriteItem'],
  // TransactWrite: no fixed row; see TRANSACTION_ITEM_ACTIONS.
  'sqs SendMessage': ['sqs:SendMessage'],
  'sqs SendMessageBatch': ['sqs:SendMessage'],
  'sqs GetQueueUrl': ['sqs:GetQueueUrl'],
  // Member accounts: the worker assumes their audit role; GetCallerIdentity needs no permission.
  'sts AssumeRole': ['sts:AssumeRole'],
  'sts GetCallerIdentity': [],
  // The Organization sweep: the accounts in scope (the Organization checked first), their tags.
  'organizations DescribeOrganization': ['organizations:DescribeOrganization'],
  'organizations ListAccounts': ['organizations:ListAccounts'],
  'organizations ListAccountsForParent': ['organizations:ListAccountsForParent'],
  'organizations ListOrganizationalUnitsForParent': ['organizations:ListOrganizationalUnitsForParent'],
  'organizations ListTagsForResource': ['organizations:ListTagsForResource'],
  // Outbox delivery (issue 19): one event per change on the stage's bus, findings under the account's product.
  'eventbridge PutEvents': ['events:PutEvents'],
  'securityhub BatchImportFindings': ['securityhub:BatchImportFindings'],
  // The worker's report diff in Athena (SSEGUARD_ATHENA_DIFF_TABLE). Athena runs each query with the
  // caller's rights: the DDL creates the table and its partitions in Glue, the diff writes its
  // result CSV to the output location (the worker reads it back by ranged GetObject: above).
  'athena StartQueryExecution': [
    'athena:StartQueryExecution',
    'glue:GetDatabase', 'glue:GetTable', 'glue:CreateTable', 'glue:GetPartition', 'glue:GetPartitions', 'glue:CreatePartition', 'glue:BatchCreatePartition',
    's3:PutObject', 's3:GetBucketLocation', 's3:ListBucket',
  ],
  'athena GetQueryExecution': ['athena:GetQueryExecution'],
  'athena StopQueryExecution': ['athena:StopQueryExecution'],
};

/** DynamoDB authorises each item of a TransactWriteItems call as the single-item write it stands for. */
const TRANSACTION_ITEM_ACTIONS: Record<TransactionItemKind, string> = {
  Put: 'dynamodb:PutItem',
  Update: 'dynamodb:UpdateItem',
  Delete: 'dynamodb:DeleteItem',
  ConditionCheck: 'dynamodb:ConditionCheckItem',
};
const TRANSACT_WRITE = 'dynamodb TransactWrite';

const service = (call: SdkCall) => call.module.replace(/^@aws-sdk\/(client|lib)-/, '');

/**
 * SDK calls present in a bundle that the function can never send, by the units that hold them.
 * None today: the report API bundles only the read modules (findings/reader.ts, posture-reader.ts).
 */
const NOT_SENT: Partial<Record<FunctionName, Record<string, string[]>>> = {};

/**
 * SDK calls a function sends only through an assumed member-account role, by the units that hold
 * them: the Organization sweep's listing of a member's buckets in the worker. The member template's
 * audit role grants them (checked below), not the function's own role.
 */
const MEMBER_ROLE_ONLY: Partial<Record<FunctionName, Record<string, string[]>>> = {
  auditWorker: { 's3 ListBuckets': ['accountBuckets'], 's3 GetBucketLocation': ['regionOf'] },
};

const ENTRIES: Record<FunctionName, string> = {
  auditWorker: 'functions/audit-worker.ts',
  sweep: 'functions/sweep.ts',
  keyEvents: 'functions/key-events.ts',
  reportApi: 'functions/report-api.ts',
  evidencePack: 'functions/evidence-pack.ts',
  outboxDelivery: 'functions/outbox-delivery.ts',
};

const scope: IamScope<string> = {
  buckets: ['arn:aws:s3:::data', 'arn:aws:s3:::legacy'],
  objects: ['arn:aws:s3:::data/*', 'arn:aws:s3:::legacy/*'],
  findingsTable: ['arn:aws:dynamodb:us-east-1:111122223333:table/findings', 'arn:aws:dynamodb:us-east-1:111122223333:table/findings/index/*'],
  idempotencyTable: ['arn:aws:dynamodb:us-east-1:111122223333:table/idempotency'],
  auditQueue: ['arn:aws:sqs:us-east-1:111122223333:audit'],
  deadLetterQueue: ['arn:aws:sqs:us-east-1:111122223333:audit-dlq'],
  auditKeys: ['arn:aws:kms:us-east-1:111122223333:key/*'],
  targetKeys: ['arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab'],
  inventoryDestinations: ['arn:aws:s3:::reports'],
  inventoryReports: ['arn:aws:s3:::reports/inventory/*'],
  // A stage that audits an Organization: the member roles the functions may assume.
  organization: {
    id: 'o-abcdefghij',
    auditRoles: ['arn:aws:iam::*:role/sseguard-audit'],
    remediationRoles: ['arn:aws:iam::*:role/sseguard-remediation'],
    parents: ['arn:aws:organizations::*:root/o-abcdefghij/*', 'arn:aws:organizations::*:ou/o-abcdefghij/*'],
    accounts: ['arn:aws:organizations::*:account/o-abcdefghij/*'],
  },
  evidencePacks: ['arn:aws:s3:::evidence/sseguard-evidence/*'],
  evidenceSigningKeys: ['arn:aws:kms:us-east-1:111122223333:key/0000aaaa-11bb-22cc-33dd-444455556666'],
  // A stage with SSEGUARD_EVENT_BUS and SSEGUARD_SECURITY_HUB=on (the cases with either off are below).
  eventBus: ['arn:aws:events:us-east-1:111122223333:event-bus/security-alerts'],
  securityHubProduct: ['arn:aws:securityhub:us-east-1:111122223333:product/111122223333/default'],
  // A stage with SSEGUARD_ATHENA_DIFF_TABLE (the case without it is below).
  athenaDiff: {
    workGroup: ['arn:aws:athena:us-east-1:111122223333:workgroup/primary'],
    glue: ['arn:aws:glue:us-east-1:111122223333:catalog', 'arn:aws:glue:us-east-1:111122223333:database/sseguard', 'arn:aws:glue:us-east-1:111122223333:table/sseguard/inventory'],
    outputObjects: ['arn:aws:s3:::athena-results/sseguard/*'],
    outputBucket: ['arn:aws:s3:::athena-results'],
  },
};
const statementsOf = (fn: FunctionName) => iamStatements(fn, scope, S3_IN_ANY_REGION);
const SDK_SERVICES = /^(s3|kms|dynamodb|sqs|sts|organizations|events|securityhub|athena|glue):/;

interface FunctionAnalysis {
  /** SDK operations the function sends (NOT_SENT exclusions applied, after checking they still hold). */
  sent: SdkCall[];
  /** IAM actions each sent call needs; a TransactWrite needs one action per item kind the code builds. */
  actionsOf(call: SdkCall): string[];
}

const analyses = new Map<FunctionName, Promise<FunctionAnalysis>>();
/** Bundles and analyses each handler once per run (bundling takes seconds). */
function analyse(fn: FunctionName): Promise<FunctionAnalysis> {
  let analysis = analyses.get(fn);
  if (!analysis) {
    analysis = bundleForAnalysis(ENTRIES[fn]).then((code) => {
      const calls = sdkCallsInBundle(code);
      const notSent = { ...(NOT_SENT[fn] ?? {}), ...(MEMBER_ROLE_ONLY[fn] ?? {}) };
      for (const [operation, units] of Object.entries(notSent)) {
        // An exclusion must still describe the code: the call exists, only in the named units.
        const call = calls.find((c) => `${service(c)} ${c.operation}` === operation);
        expect(call, `${operation} no longer reachable: remove it from NOT_SENT`).toBeDefined();
        expect(call!.units.sort()).toEqual([...units].sort());
      }
      const itemActions = transactionItemKindsInBundle(code).map(({ kind }) => TRANSACTION_ITEM_ACTIONS[kind]);
      return {
        sent: calls.filter((c) => !(`${service(c)} ${c.operation}` in notSent)),
        actionsOf: (call) => {
          const operation = `${service(call)} ${call.operation}`;
          return operation === TRANSACT_WRITE ? itemActions : (IAM_ACTIONS[operation] ?? []);
        },
      };
    });
    analyses.set(fn, analysis);
  }
  return analysis;
}

const FUNCTION_NAMES = Object.keys(ENTRIES) as FunctionName[];
const ANALYSIS_TIMEOUT_MS = 120_000;

describe('IAM actions per function equal the SDK calls its code can send', () => {
  it.each(FUNCTION_NAMES)('%s', async (fn) => {
    const { sent, actionsOf } = await analyse(fn);
    const unmapped = sent
      .filter((c) => !(`${service(c)} ${c.operation}` in IAM_ACTIONS) && `${service(c)} ${c.operation}` !== TRANSACT_WRITE)
      .map((c) => `${c.module} ${c.operation}`);
    expect(unmapped, 'operations without an IAM mapping').toEqual([]);
    const needed = new Set(sent.flatMap(actionsOf));
    const granted = new Set(statementsOf(fn).flatMap((s) => s.actions).filter((a) => SDK_SERVICES.test(a)));
    expect([...granted].sort()).toEqual([...needed].sort());
  }, ANALYSIS_TIMEOUT_MS);

  // The union above cannot see a DeleteItem granted on the idempotency table but missing on the
  // findings table: per table, sseguard's own calls (lib-dynamodb) go to the findings table and
  // Powertools idempotency's (client-dynamodb) to its own table.
  it.each(FUNCTION_NAMES)('%s: DynamoDB actions per table, every transaction item kind included', async (fn) => {
    const { sent, actionsOf } = await analyse(fn);
    const neededOn = (module: string) => new Set(sent.filter((c) => c.module === module).flatMap(actionsOf));
    const grantedOn = (table: string) =>
      new Set(statementsOf(fn).filter((s) => s.resources.includes(table)).flatMap((s) => s.actions).filter((a) => a.startsWith('dynamodb:')));
    expect([...grantedOn(scope.findingsTable[0]!)].sort(), 'findings table').toEqual([...neededOn('@aws-sdk/lib-dynamodb')].sort());
    expect([...grantedOn(scope.idempotencyTable[0]!)].sort(), 'idempotency table').toEqual([...neededOn('@aws-sdk/client-dynamodb')].sort());
  }, ANALYSIS_TIMEOUT_MS);

  it('the sweep and the worker may delete from the findings table: their transactions hold Delete items', async () => {
    for (const fn of ['sweep', 'auditWorker'] as const) {
      const findingsActions = statementsOf(fn).filter((s) => s.resources.includes(scope.findingsTable[0]!)).flatMap((s) => s.actions);
      expect(findingsActions, fn).toContain('dynamodb:DeleteItem');
      expect((await analyse(fn)).sent.flatMap((c) => (c.operation === 'TransactWrite' ? [c] : []))).not.toEqual([]);
    }
  }, ANALYSIS_TIMEOUT_MS);
});

describe('calls sent only through member roles', () => {
  it('are granted by the member template\'s audit role (head variant), on the member\'s side', () => {
    const granted = new Set(auditStatements({ variant: 'head' }).flatMap((s) => s.Action));
    for (const [fn, calls] of Object.entries(MEMBER_ROLE_ONLY)) {
      for (const operation of Object.keys(calls!)) {
        for (const action of IAM_ACTIONS[operation] ?? []) expect(granted.has(action), `${fn} ${operation}: ${action}`).toBe(true);
      }
    }
  });
});

describe('the report API is read-only', () => {
  const READ_ONLY = /^(s3:(Get|List)|kms:(Describe|Get)|dynamodb:(Get|BatchGet|Query|Scan|Describe)|xray:)/;

  it('its role grants no write action on any service', () => {
    const actions = statementsOf('reportApi').flatMap((s) => s.actions);
    expect(actions.filter((a) => !READ_ONLY.test(a))).toEqual([]);
  });

  it('the operations it sends are reads', async () => {
    const { sent, actionsOf } = await analyse('reportApi');
    expect(sent.flatMap(actionsOf).filter((a) => !READ_ONLY.test(a))).toEqual([]);
  }, ANALYSIS_TIMEOUT_MS);
});

describe('IAM resources', () => {
  const all = (Object.keys(ENTRIES) as FunctionName[]).flatMap((fn) => statementsOf(fn).map((s) => ({ fn, ...s })));

  it('object actions name only the monitored buckets’ objects, bucket actions only the buckets; inventory reports are only read, only where they are delivered', () => {
    for (const s of all.filter((s) => s.sid === 'InventoryReports' || s.sid === 'InventoryDestinations')) {
      expect([s.sid, s.actions, s.resources]).toEqual(
        s.sid === 'InventoryReports' ? ['InventoryReports', ['s3:GetObject'], scope.inventoryReports] : ['InventoryDestinations', ['s3:ListBucket'], scope.inventoryDestinations],
      );
    }
    // The Athena diff's result location: read and written there only, by the worker only (checked below).
    for (const s of all.filter((s) => s.sid !== 'InventoryReports' && s.sid !== 'InventoryDestinations' && s.sid !== 'EvidencePacks' && !s.sid.startsWith('AthenaDiffResult'))) {
      const objectActions = s.actions.filter((a) => /^s3:(Get|Put)Object|^s3:AbortMultipartUpload|^s3:UpdateObjectEncryption/.test(a));
      if (objectActions.length > 0) expect(s.resources, `${s.fn} ${s.sid}`).toEqual(scope.objects);
      if (s.actions.some((a) => ['s3:ListBucket', 's3:ListBucketVersions', 's3:GetEncryptionConfiguration', 's3:GetBucketPolicy'].includes(a))) expect(s.resources).toEqual(scope.buckets);
    }
  });

  it('"*" only where IAM allows nothing narrower: ListAllMyBuckets, KMS ListAliases, Organizations DescribeOrganization and ListAccounts, and X-Ray', () => {
    const unscoped = new Set(['s3:ListAllMyBuckets', 'kms:ListAliases', 'organizations:DescribeOrganization', 'organizations:ListAccounts']);
    for (const s of all.filter((s) => s.resources.includes('*'))) {
      expect(s.actions.every((a) => unscoped.has(a) || a.startsWith('xray:')), `${s.fn} ${s.sid}`).toBe(true);
    }
  });

  it('only the sweep reads the Organization, and only this Organization\'s roots, OUs and accounts where IAM can scope it', () => {
    const reads = all.filter((s) => s.actions.some((a) => a.startsWith('organizations:')));
    expect(reads.map((s) => [s.fn, s.actions, s.resources])).toEqual([
      ['sweep', ['organizations:DescribeOrganization', 'organizations:ListAccounts'], ['*']],
      ['sweep', ['organizations:ListAccountsForParent', 'organizations:ListOrganizationalUnitsForParent'], scope.organization!.parents],
      ['sweep', ['organizations:ListTagsForResource'], scope.organization!.accounts],
    ]);
  });

  it('KMS encryption happens only through S3 (of any Region: fixes in every Region the account has buckets in) and only with the target keys', () => {
    for (const s of all.filter((s) => s.actions.some((a) => /^kms:(Encrypt|GenerateDataKey|ReEncryptTo)$/.test(a)))) {
      expect(s.resources).toEqual(scope.targetKeys);
      expect(s.conditions).toEqual([{ test: 'StringLike', variable: 'kms:ViaService', values: ['s3.*.amazonaws.com'] }]);
    }
    for (const s of all.filter((s) => s.actions.includes('kms:Decrypt'))) expect(s.conditions?.[0]?.variable).toBe('kms:ViaService');
  });

  it('DynamoDB and SQS actions name only the app’s tables and queues', () => {
    const own = new Set([...scope.findingsTable, ...scope.idempotencyTable, ...scope.auditQueue, ...scope.deadLetterQueue]);
    for (const s of all.filter((s) => s.actions.some((a) => /^(dynamodb|sqs):/.test(a)))) {
      for (const r of s.resources) expect(own.has(r as string), `${s.fn} ${s.sid}: ${String(r)}`).toBe(true);
    }
  });

  it('only the worker may dead-letter; the sweep, key events (pages of a large blast radius) and the worker (an inventory report\'s reconciliation) may enqueue', () => {
    const sends = all.filter((s) => s.actions.includes('sqs:SendMessage'));
    expect(sends.map((s) => [s.fn, s.resources])).toEqual([
      ['auditWorker', scope.deadLetterQueue],
      ['auditWorker', scope.auditQueue],
      ['sweep', scope.auditQueue],
      ['keyEvents', scope.auditQueue],
    ]);
  });

  it('only the scheduled pack signs, only with the evidence key; it only puts objects, only under the evidence prefix', () => {
    const signing = all.filter((s) => s.actions.some((a) => a === 'kms:Sign' || a === 'kms:GetPublicKey'));
    expect(signing.map((s) => [s.fn, s.actions, s.resources])).toEqual([['evidencePack', ['kms:Sign', 'kms:GetPublicKey'], scope.evidenceSigningKeys]]);
    const evidenceWrites = statementsOf('evidencePack').filter((s) => s.actions.some((a) => /^s3:(Put|Delete|Get)Object/.test(a)));
    expect(evidenceWrites.map((s) => [s.actions, s.resources])).toEqual([[['s3:PutObject'], scope.evidencePacks]]);
    expect(all.filter((s) => s.sid === 'EvidencePacks').map((s) => s.fn)).toEqual(['evidencePack']);
  });

  it('only key events may change a KMS key, and only by cancelling its deletion', () => {
    const keyChanges = all.filter((s) => s.actions.some((a) => a.startsWith('kms:') && !/^kms:(Describe|Get|List|Decrypt|ReEncrypt|Encrypt|GenerateDataKey|Sign$)/.test(a)));
    expect(keyChanges.map((s) => [s.fn, s.actions, s.resources])).toEqual([['keyEvents', ['kms:CancelKeyDeletion'], scope.auditKeys]]);
  });
});

describe('transaction item analysis', () => {
  // The shape the findings module is moving to: one transactWrite(items) helper, items built by callers.
  const bundle = `
    import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
    async function transactWrite(items) { return client.send(new TransactWriteCommand({ TransactItems: items })); }
    function removal(Delete) { return transactWrite([{ Delete }, { Update: { TableName: 't', Key: {} } }]); }
    function neverCalled() { return transactWrite([{ ConditionCheck: { TableName: 't', Key: {} } }]); }
    class Runs { finish() { return removal({ TableName: 't', Key: {} }); } start() { return transactWrite([{ Put: { TableName: 't', Item: {} } }]); } }
    var handler = middy(async () => new Runs().finish());
    export { handler };
  `;

  it('finds the item kinds reachable code builds, wherever it builds them, and only those', () => {
    expect(transactionItemKindsInBundle(bundle)).toEqual([
      { kind: 'Delete', units: ['removal'] },
      { kind: 'Update', units: ['removal'] },
    ]);
  });

  it('a kind built only by unreachable code is not counted; reaching it by name counts it', () => {
    const reachingStart = bundle.replace('new Runs().finish()', 'new Runs().start()');
    expect(transactionItemKindsInBundle(reachingStart).map((k) => k.kind)).toEqual(['Put']);
  });
});

describe('the report diff in Athena: only the worker, and only when SSEGUARD_ATHENA_DIFF_TABLE is set', () => {
  const { athenaDiff: _diff, ...off } = scope;
  const athenaOrGlue = (stageScope: IamScope<string>) =>
    FUNCTION_NAMES.flatMap((fn) =>
      iamStatements(fn, stageScope, S3_IN_ANY_REGION)
        .filter((s) => s.sid.startsWith('AthenaDiff') || s.actions.some((a) => /^(athena|glue):/.test(a)))
        .map((s) => [fn, s.sid, s.actions, s.resources]),
    );

  it('on: queries in the one workgroup, the one Glue table (its database and catalog), results read and written under the output prefix alone', () => {
    expect(athenaOrGlue(scope)).toEqual([
      ['auditWorker', 'AthenaDiffQueries', ['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:StopQueryExecution'], scope.athenaDiff!.workGroup],
      [
        'auditWorker',
        'AthenaDiffTable',
        ['glue:GetDatabase', 'glue:GetTable', 'glue:CreateTable', 'glue:GetPartition', 'glue:GetPartitions', 'glue:CreatePartition', 'glue:BatchCreatePartition'],
        scope.athenaDiff!.glue,
      ],
      ['auditWorker', 'AthenaDiffResults', ['s3:GetObject', 's3:PutObject'], scope.athenaDiff!.outputObjects],
      ['auditWorker', 'AthenaDiffResultBucket', ['s3:GetBucketLocation', 's3:ListBucket'], scope.athenaDiff!.outputBucket],
    ]);
  });

  it('off: no Athena, Glue or result-location statement in any role, and every other statement as with it on', () => {
    expect(athenaOrGlue(off)).toEqual([]);
    for (const fn of FUNCTION_NAMES) {
      expect(iamStatements(fn, off, S3_IN_ANY_REGION), fn).toEqual(iamStatements(fn, scope, S3_IN_ANY_REGION).filter((s) => !s.sid.startsWith('AthenaDiff')));
    }
  });

  it('the stage settings: the table, workgroup and output passed to every function; refused half set; none when unset', () => {
    const base = { SSEGUARD_EXISTING_BUCKETS: 'data', SSEGUARD_INVENTORY_DESTINATION: 'reports/inventory' };
    expect(stageSettings('dev', base).athenaDiff).toBeUndefined();
    expect(functionEnvironment(stageSettings('dev', base), 'data')).not.toHaveProperty('SSEGUARD_ATHENA_DIFF_TABLE');
    const on = stageSettings('dev', { ...base, SSEGUARD_ATHENA_DIFF_TABLE: 'sseguard.inventory', SSEGUARD_ATHENA_OUTPUT: 's3://athena-results/sseguard/' });
    expect(on.athenaDiff).toEqual({ database: 'sseguard', table: 'inventory', workGroup: 'primary', outputBucket: 'athena-results', outputPrefix: 'sseguard' });
    expect(functionEnvironment(on, 'data')).toMatchObject({ SSEGUARD_ATHENA_DIFF_TABLE: 'sseguard.inventory', SSEGUARD_ATHENA_WORKGROUP: 'primary', SSEGUARD_ATHENA_OUTPUT: 's3://athena-results/sseguard/' });
    const arns = {
      workGroup: (name: string) => `arn:aws:athena:us-east-1:111122223333:workgroup/${name}`,
      glue: (resource: string) => `arn:aws:glue:us-east-1:111122223333:${resource}`,
      s3: (resource: string) => `arn:aws:s3:::${resource}`,
    };
    expect(athenaDiffScope(on, arns)).toEqual({ athenaDiff: scope.athenaDiff });
    expect(athenaDiffScope(stageSettings('dev', base), arns)).toEqual({});
    expect(() => stageSettings('dev', { ...base, SSEGUARD_ATHENA_DIFF_TABLE: 'sseguard.inventory' })).toThrow(/SSEGUARD_ATHENA_OUTPUT: "" is not an s3:\/\/bucket\/prefix\/ location/);
    expect(() => stageSettings('dev', { ...base, SSEGUARD_ATHENA_DIFF_TABLE: 'no-dots' , SSEGUARD_ATHENA_OUTPUT: 's3://athena-results/' })).toThrow(/SSEGUARD_ATHENA_DIFF_TABLE: "no-dots" is not DATABASE.TABLE/);
    expect(() => stageSettings('dev', { SSEGUARD_EXISTING_BUCKETS: 'data', SSEGUARD_ATHENA_DIFF_TABLE: 'a.b', SSEGUARD_ATHENA_OUTPUT: 's3://athena-results/' })).toThrow(/without SSEGUARD_INVENTORY_DESTINATION/);
  });
});

describe('pushing changes: only outbox delivery, and only to what the stage turns on', () => {
  const { eventBus: _bus, securityHubProduct: _product, ...neither } = scope;
  const stages: [string, IamScope<string>][] = [
    ['both on', scope],
    ['SSEGUARD_EVENT_BUS only', { ...neither, eventBus: scope.eventBus! }],
    ['SSEGUARD_SECURITY_HUB=on only', { ...neither, securityHubProduct: scope.securityHubProduct! }],
    ['both off', neither],
  ];

  it.each(stages)('%s: PutEvents on the named bus and BatchImportFindings on the product, by outbox delivery alone', (_name, stageScope) => {
    const pushes = FUNCTION_NAMES.flatMap((fn) =>
      iamStatements(fn, stageScope, S3_IN_ANY_REGION)
        .filter((s) => s.actions.some((a) => /^(events|securityhub):/.test(a)))
        .map((s) => [fn, s.actions, s.resources]),
    );
    expect(pushes).toEqual([
      ...(stageScope.eventBus ? [['outboxDelivery', ['events:PutEvents'], scope.eventBus]] : []),
      ...(stageScope.securityHubProduct ? [['outboxDelivery', ['securityhub:BatchImportFindings'], scope.securityHubProduct]] : []),
    ]);
  });

  it('the stage settings: integrations from SSEGUARD_EVENT_BUS and SSEGUARD_SECURITY_HUB, passed to every function; none when unset', () => {
    const base = { SSEGUARD_EXISTING_BUCKETS: 'data' };
    expect(stageSettings('dev', base).integrations).toBeUndefined();
    expect(functionEnvironment(stageSettings('dev', base), 'data')).not.toHaveProperty('SSEGUARD_EVENT_BUS');
    const on = stageSettings('dev', { ...base, SSEGUARD_EVENT_BUS: 'security-alerts', SSEGUARD_SECURITY_HUB: 'on' });
    expect(on.integrations).toEqual({ eventBus: 'security-alerts', securityHub: true });
    expect(functionEnvironment(on, 'data')).toMatchObject({ SSEGUARD_EVENT_BUS: 'security-alerts', SSEGUARD_SECURITY_HUB: 'on' });
    expect(stageSettings('dev', { ...base, SSEGUARD_SECURITY_HUB: 'off' }).integrations).toBeUndefined();
    expect(() => stageSettings('dev', { ...base, SSEGUARD_SECURITY_HUB: 'yes' })).toThrow(/SSEGUARD_SECURITY_HUB: "yes" is not on or off/);
    const where = { partition: 'aws', region: 'us-east-1', account: '111122223333' };
    expect(eventBusArn('security-alerts', where)).toBe(scope.eventBus![0]);
    expect(eventBusArn('arn:aws:events:eu-west-1:444455556666:event-bus/central', where)).toBe('arn:aws:events:eu-west-1:444455556666:event-bus/central');
    expect(securityHubProductArn(where)).toBe(scope.securityHubProduct![0]);
  });
});
