// An AWS Organization on the emulator: OUs, member accounts across two Regions, each with a bucket
// of objects in every mode, a key in one account protecting other accounts' objects, and one
// account whose audit role refuses to be assumed. moto separates accounts by the credentials STS
// AssumeRole returns (they act in the role's account) and keeps Regions apart; it checks neither
// role existence nor trust policies nor external ids, so the refusal is made at the STS client
// boundary (`refusingAssumeRole`) in the exact shape AWS answers.
import { AssumeRoleCommand, STSClient, STSServiceException } from '@aws-sdk/client-sts';
import { CreateKeyCommand, DisableKeyCommand } from '@aws-sdk/client-kms';
import { CreateBucketCommand, PutObjectCommand, type BucketLocationConstraint, type PutObjectCommandInput } from '@aws-sdk/client-s3';
import {
  CreateAccountCommand,
  CreateOrganizationalUnitCommand,
  CreateOrganizationCommand,
  ListRootsCommand,
  MoveAccountCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import type { Pluggable } from '@smithy/types';
import { createAccountClients } from '../../shared/aws/clients.ts';
import { sseCHeaders } from './aws-fixtures.ts';

export const ORG_REGIONS = ['us-east-1', 'eu-west-1'] as const;
export const AUDIT_ROLE = 'sseguard-audit';

export interface OrgMember {
  id: string;
  ou: 'prod' | 'sandbox';
  region: string;
  bucket: string;
  clients: ReturnType<typeof createAccountClients>;
  /** The account's own customer-managed key (disabled in the at-risk account). */
  keyArn: string;
}

export interface TestOrganization {
  management: string;
  rootId: string;
  ous: { workloads: string; prod: string; sandbox: string };
  members: OrgMember[];
  /** A key in members[0] (us-east-1) protecting objects of the other us-east-1 members. */
  sharedKey: { owner: string; arn: string; usedBy: string[] };
  /** The account whose role refuses AssumeRole (through `refusingAssumeRole`). */
  blocked: string;
  /** The account whose own key is disabled: its objects under that key are at risk. */
  atRisk: string;
}

/** The credentials of an account's audit role, from moto's STS (no role needs to exist there). */
async function memberClients(sts: STSClient, account: string, region: string) {
  const { Credentials } = await sts.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${account}:role/${AUDIT_ROLE}`, RoleSessionName: 'seed' }));
  return createAccountClients({
    region,
    credentials: async () => ({ accessKeyId: Credentials!.AccessKeyId!, secretAccessKey: Credentials!.SecretAccessKey!, sessionToken: Credentials!.SessionToken! }),
  });
}

const put = (clients: OrgMember['clients'], bucket: string, key: string, encryption: Partial<PutObjectCommandInput>) =>
  clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: Buffer.from(`body of ${key}`), ...encryption }));

/**
 * Builds the Organization from the emulator's default (management) account: root → workloads →
 * {prod, sandbox}; members alternate OUs and Regions. Per member one bucket: an SSE-S3 object, one
 * under its own key, one SSE-C (noncompliant under the default policy), and in us-east-1 one under
 * the shared key of members[0].
 */
export async function buildOrganization(options: { members?: number; region?: string } = {}): Promise<TestOrganization> {
  const count = options.members ?? 20;
  const region = options.region ?? process.env.AWS_REGION ?? 'us-east-1';
  const organizations = new OrganizationsClient({ region });
  const sts = new STSClient({ region });
  const { Organization } = await organizations.send(new CreateOrganizationCommand({ FeatureSet: 'ALL' }));
  const { Roots } = await organizations.send(new ListRootsCommand({}));
  const rootId = Roots![0]!.Id!;
  const ou = async (parent: string, name: string) => (await organizations.send(new CreateOrganizationalUnitCommand({ ParentId: parent, Name: name }))).OrganizationalUnit!.Id!;
  const workloads = await ou(rootId, 'workloads');
  const ous = { workloads, prod: await ou(workloads, 'prod'), sandbox: await ou(workloads, 'sandbox') };

  const members: OrgMember[] = [];
  for (let i = 0; i < count; i++) {
    const created = await organizations.send(new CreateAccountCommand({ AccountName: `member-${i}`, Email: `member-${i}@example.com` }));
    const id = created.CreateAccountStatus!.AccountId!;
    const memberOu = i % 2 === 0 ? 'prod' : 'sandbox';
    await organizations.send(new MoveAccountCommand({ AccountId: id, SourceParentId: rootId, DestinationParentId: ous[memberOu] }));
    const memberRegion = ORG_REGIONS[Math.floor(i / 2) % ORG_REGIONS.length]!;
    const clients = await memberClients(sts, id, memberRegion);
    const bucket = `org-member-${i}-${id}`;
    await clients.s3.send(
      new CreateBucketCommand({
        Bucket: bucket,
        ...(memberRegion === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: memberRegion as BucketLocationConstraint } }),
      }),
    );
    const { KeyMetadata } = await clients.kms.send(new CreateKeyCommand({ Description: `key of member-${i}` }));
    members.push({ id, ou: memberOu, region: memberRegion, bucket, clients, keyArn: KeyMetadata!.Arn! });
    await put(clients, bucket, 'data/sse-s3.txt', { ServerSideEncryption: 'AES256' });
    await put(clients, bucket, 'data/own-key.txt', { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: KeyMetadata!.Arn! });
    await put(clients, bucket, 'data/sse-c.bin', sseCHeaders);
  }
  const owner = members[0]!;
  const usedBy = members.filter((m, i) => i > 0 && m.region === owner.region).slice(0, 4);
  for (const member of usedBy) await put(member.clients, member.bucket, 'data/shared-key.txt', { ServerSideEncryption: 'aws:kms', SSEKMSKeyId: owner.keyArn });
  const atRisk = members[3]!;
  // moto 5.2 answers DisableKey given a key ARN with a 500: the key id.
  await atRisk.clients.kms.send(new DisableKeyCommand({ KeyId: atRisk.keyArn.split('/').pop()! }));
  return {
    management: Organization!.MasterAccountId!,
    rootId,
    ous,
    members,
    sharedKey: { owner: owner.id, arn: owner.keyArn, usedBy: usedBy.map((m) => m.id) },
    blocked: members[count - 1]!.id,
    atRisk: atRisk.id,
  };
}

/**
 * An STS client whose AssumeRole into `account` is refused as AWS refuses a role whose trust policy
 * does not admit the caller (or whose external id does not match): 403 AccessDenied. Everything
 * else goes to the emulator. moto enforces neither trust policies nor external ids.
 */
export function refusingAssumeRole(account: string, region = process.env.AWS_REGION ?? 'us-east-1'): STSClient & { assumeRoleCalls: string[] } {
  return refusingAssumeRoles([{ account }], region);
}

/** As refusingAssumeRole, for several accounts, each for every role or only the role named. */
export function refusingAssumeRoles(refusals: { account: string; role?: string }[], region = process.env.AWS_REGION ?? 'us-east-1'): STSClient & { assumeRoleCalls: string[] } {
  const client = new STSClient({ region }) as STSClient & { assumeRoleCalls: string[] };
  client.assumeRoleCalls = [];
  const plugin: Pluggable<object, object> = {
    applyToStack(stack) {
      stack.add(
        (next, context) => async (args) => {
          const input = args.input as { RoleArn?: string };
          if (context.commandName === 'AssumeRoleCommand') {
            client.assumeRoleCalls.push(input.RoleArn ?? '');
            const arn = input.RoleArn ?? '';
            if (refusals.some((r) => arn.includes(`::${r.account}:`) && (!r.role || arn.endsWith(`:role/${r.role}`)))) {
              throw new STSServiceException({
                name: 'AccessDenied',
                $fault: 'client',
                $metadata: { httpStatusCode: 403 },
                message: `User: arn:aws:sts::123456789012:assumed-role/sseguard-central/cli is not authorized to perform: sts:AssumeRole on resource: ${input.RoleArn}`,
              });
            }
          }
          return next(args);
        },
        { step: 'initialize', name: 'refuseAssumeRole' },
      );
    },
  };
  (client.middlewareStack as unknown as { use(p: Pluggable<object, object>): void }).use(plugin);
  return client;
}
