// Credentials per member account: STS AssumeRole of the audit role, assumed once per account,
// shared by every client of that account (S3, KMS, every Region) and refreshed before it expires.
//
// The provider has the SDK's credential-provider shape (a function returning credentials with an
// `expiration`): a client given it refreshes by itself when the session is near its end, so a scan
// that outlives a one-hour session keeps going. One provider per account memoizes the session, so
// twenty clients of one account make one AssumeRole, not twenty, and a refresh is made once.
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { clientSettings, type ClientOptions } from '../aws/clients.ts';

export const DEFAULT_ROLE_NAME = 'sseguard-audit';
/** A session is renewed this long before it expires (the SDK's own clients refresh 5 minutes early too). */
export const REFRESH_MARGIN_MS = 10 * 60_000;
const SESSION_SECONDS = 3600;

export interface RoleSettings {
  /** A role name (`sseguard-audit`) or an ARN template: `arn:{partition}:iam::{account}:role/NAME`. */
  roleName: string;
  externalId?: string;
  /** Partition of the account's ARNs (aws, aws-cn, aws-us-gov). */
  partition?: string;
}

const ACCOUNT_ID = /^\d{12}$/;

/** The role ARN to assume in an account: a plain name, or an ARN template filled in. */
export function roleArnFor(account: string, settings: Pick<RoleSettings, 'roleName' | 'partition'>): string {
  if (!ACCOUNT_ID.test(account)) throw new Error(`${account} is not a 12-digit AWS account id`);
  const partition = settings.partition ?? 'aws';
  const template = settings.roleName.startsWith('arn:') ? settings.roleName : `arn:{partition}:iam::{account}:role/${settings.roleName}`;
  const arn = template.replaceAll('{partition}', partition).replaceAll('{account}', account);
  if (!/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/.test(arn)) throw new Error(`--role-name ${settings.roleName} does not make an IAM role ARN (got ${arn})`);
  return arn;
}

/** The account an error left unreached, and why: never a verdict about its objects. */
export class AccountUnreachableError extends Error {
  override name = 'AccountUnreachableError';
  constructor(
    readonly account: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`account ${account}: ${reason}`, options);
  }
}

export interface AccountCredentials {
  /** The SDK-shaped provider for this account's clients (refreshes itself). */
  provider(account: string): AwsCredentialIdentityProvider;
  /** Assumes the role now (or returns the live session): the check `sseguard accounts` makes. */
  assume(account: string): Promise<AwsCredentialIdentity>;
  /** AssumeRole calls made so far (the bench proves it is one per account). */
  readonly assumeCalls: number;
}

interface Session {
  credentials?: AwsCredentialIdentity;
  pending?: Promise<AwsCredentialIdentity>;
}

/** AssumeRole per account, memoized per account until REFRESH_MARGIN_MS before expiry. */
export function assumedRoleCredentials(
  settings: RoleSettings,
  options: { sts?: STSClient; clientOptions?: ClientOptions; now?: () => number } = {},
): AccountCredentials {
  const sts = options.sts ?? new STSClient(clientSettings('sts', options.clientOptions));
  const now = options.now ?? (() => Date.now());
  const sessions = new Map<string, Session>();
  let assumeCalls = 0;

  const fresh = (credentials: AwsCredentialIdentity | undefined): credentials is AwsCredentialIdentity =>
    credentials !== undefined && (credentials.expiration === undefined || credentials.expiration.getTime() - now() > REFRESH_MARGIN_MS);

  const assumeRole = async (account: string): Promise<AwsCredentialIdentity> => {
    assumeCalls += 1;
    const roleArn = roleArnFor(account, settings);
    try {
      const answer = await sts.send(
        new AssumeRoleCommand({
          RoleArn: roleArn,
          RoleSessionName: 'sseguard-audit',
          DurationSeconds: SESSION_SECONDS,
          ...(settings.externalId ? { ExternalId: settings.externalId } : {}),
        }),
      );
      const c = answer.Credentials;
      if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error('AssumeRole answered without credentials');
      return {
        accessKeyId: c.AccessKeyId,
        secretAccessKey: c.SecretAccessKey,
        ...(c.SessionToken ? { sessionToken: c.SessionToken } : {}),
        ...(c.Expiration ? { expiration: new Date(c.Expiration) } : {}),
        accountId: account,
      };
    } catch (error) {
      const e = error as { name?: string; message?: string };
      throw new AccountUnreachableError(account, `cannot assume ${roleArn}: ${e.name ?? 'Error'}: ${e.message ?? String(error)}`, { cause: error });
    }
  };

  const assume = (account: string): Promise<AwsCredentialIdentity> => {
    const session = sessions.get(account) ?? {};
    sessions.set(account, session);
    if (fresh(session.credentials)) return Promise.resolve(session.credentials);
    // Concurrent callers share one AssumeRole; a failure is not cached (the next call tries again).
    session.pending ??= assumeRole(account).then(
      (credentials) => {
        session.credentials = credentials;
        delete session.pending;
        return credentials;
      },
      (error: unknown) => {
        delete session.pending;
        throw error;
      },
    );
    return session.pending;
  };

  const providers = new Map<string, AwsCredentialIdentityProvider>();
  return {
    provider(account) {
      let provider = providers.get(account);
      if (!provider) {
        provider = () => assume(account);
        providers.set(account, provider);
      }
      return provider;
    },
    assume,
    get assumeCalls() {
      return assumeCalls;
    },
  };
}
