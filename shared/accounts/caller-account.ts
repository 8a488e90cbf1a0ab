// The AWS account sseguard runs in, as the AWS CLI finds it: STS GetCallerIdentity on the
// credentials in use. SSEGUARD_ACCOUNT_ID, when set, wins (an override, and no STS call).
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { ConfigError, type Config } from '../config.ts';
import { commonSettings } from '../aws/clients.ts';
import { errorFacts, isTransientServiceError, unreachableEndpoint } from '../aws/errors.ts';

/** A ConfigError: the CLI prints it as one line, exit 2. */
export class AccountLookupError extends ConfigError {
  override name = 'AccountLookupError';
}

/** STS's endpoint as every AWS SDK resolves it: AWS_ENDPOINT_URL_STS, then AWS_ENDPOINT_URL. */
export function stsEndpoint(config: Pick<Config, 'endpoint'>, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS?.toLowerCase() === 'true') return undefined;
  return env.AWS_ENDPOINT_URL_STS || config.endpoint;
}

export async function callerAccountId(config: Pick<Config, 'endpoint' | 'region' | 'timeouts'>, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const endpoint = stsEndpoint(config, env);
  const sts = new STSClient({ ...commonSettings({ timeouts: config.timeouts }), region: config.region, ...(endpoint ? { endpoint } : {}) });
  try {
    const { Account } = await sts.send(new GetCallerIdentityCommand({}));
    if (!Account) throw new AccountLookupError('STS GetCallerIdentity named no account: set SSEGUARD_ACCOUNT_ID');
    return Account;
  } catch (error) {
    // A dead endpoint, throttling or a 5xx after every retry is weather, not a missing setting.
    if (error instanceof AccountLookupError || unreachableEndpoint(error, endpoint) || isTransientServiceError(error)) throw error;
    const { name, message } = errorFacts(error);
    throw new AccountLookupError(`cannot tell which account these credentials belong to (STS GetCallerIdentity: ${name}: ${message}): set SSEGUARD_ACCOUNT_ID`);
  } finally {
    sts.destroy();
  }
}

/** The config with `batch.accountId` filled: SSEGUARD_ACCOUNT_ID when set, else the caller's account. */
export async function withAccountId<C extends Pick<Config, 'endpoint' | 'region' | 'timeouts' | 'batch'>>(config: C, env: NodeJS.ProcessEnv = process.env): Promise<C> {
  if (config.batch.accountId) return config;
  return { ...config, batch: { ...config.batch, accountId: await callerAccountId(config, env) } };
}

/**
 * The account findings are stamped with when a run audits its own account: SSEGUARD_ACCOUNT_ID, else
 * the caller's account. Undefined when STS cannot tell (no STS endpoint, an answer without one): the
 * findings then carry no account, as before accounts were kept — never a wrong one.
 */
export async function ownAccountId(config: Pick<Config, 'endpoint' | 'region' | 'timeouts' | 'batch'>, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  if (config.batch.accountId) return config.batch.accountId;
  return callerAccountId(config, env).catch(() => undefined);
}
