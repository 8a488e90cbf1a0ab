// Configuration from the environment: the AWS SDK's own names (AWS_REGION, AWS_ENDPOINT_URL, the
// credential chain) plus sseguard's. Validated once at start, with a one-line error per problem.
import { z } from 'zod';
import { DEFAULT_TABLE_NAME } from './findings/table.ts';

export interface Config {
  region: string;
  endpoint?: string;
  table: string;
  policyPath?: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const environment = z.object({
  AWS_REGION: z
    .string({ error: 'AWS_REGION is not set (for example: export AWS_REGION=us-east-1)' })
    .regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'AWS_REGION is not a region name (for example: us-east-1)'),
  AWS_ENDPOINT_URL: z
    .url({ protocol: /^https?$/, error: 'AWS_ENDPOINT_URL is not an http(s) URL (for example: http://127.0.0.1:4566)' })
    .optional(),
  SSEGUARD_TABLE: z
    .string()
    .regex(/^[a-zA-Z0-9_.-]{3,255}$/, 'SSEGUARD_TABLE is not a DynamoDB table name (3-255 of a-z A-Z 0-9 _ . -)')
    .default(DEFAULT_TABLE_NAME),
  SSEGUARD_POLICY: z.string().min(1, 'SSEGUARD_POLICY is empty: unset it or name a policy file').optional(),
});

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const blankToUndefined = (value: string | undefined) => (value === '' ? undefined : value);
  const parsed = environment.safeParse({
    AWS_REGION: blankToUndefined(env.AWS_REGION) ?? blankToUndefined(env.AWS_DEFAULT_REGION),
    AWS_ENDPOINT_URL: blankToUndefined(env.AWS_ENDPOINT_URL),
    SSEGUARD_TABLE: blankToUndefined(env.SSEGUARD_TABLE),
    SSEGUARD_POLICY: env.SSEGUARD_POLICY,
  });
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((issue) => issue.message).join('; '));
  const { AWS_REGION, AWS_ENDPOINT_URL, SSEGUARD_TABLE, SSEGUARD_POLICY } = parsed.data;
  return {
    region: AWS_REGION,
    table: SSEGUARD_TABLE,
    ...(AWS_ENDPOINT_URL ? { endpoint: AWS_ENDPOINT_URL } : {}),
    ...(SSEGUARD_POLICY ? { policyPath: SSEGUARD_POLICY } : {}),
  };
}
