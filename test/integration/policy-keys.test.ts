// Policy key references resolved by KMS itself (the KeyInspector's arnOf on the emulator): an alias
// and the ARN of the key it points to are one key, wherever each appears in the policy.
import { beforeAll, describe, expect, test } from 'vitest';
import { loadConfig } from '../../shared/config.ts';
import { PolicyError, parsePolicy } from '../../shared/domain/policy.ts';
import { resolveKeys } from '../../shared/policy-loader.ts';
import { createRuntime, type Runtime } from '../../shared/runtime.ts';
import { createKey, type TestKey } from '../support/aws-fixtures.ts';

let runtime: Runtime;
let app: TestKey;
let other: TestKey;

beforeAll(async () => {
  runtime = createRuntime(loadConfig());
  app = await createKey(runtime.clients, { alias: 'alias/app' });
  other = await createKey(runtime.clients, { alias: 'alias/other' });
});

const policyText = (listed: string, target: string) => `
version: 1
default:
  require: sse-kms
  kmsKeys: [${listed}]
  remediate: true
  target: { mode: sse-kms, kmsKey: "${target}" }
`;

describe('policy key references on the emulator', () => {
  test('kmsKeys [alias/app] with target.kmsKey the ARN of the key alias/app points to is valid', async () => {
    const policy = await resolveKeys(parsePolicy(policyText('alias/app', app.arn), 'p.yaml'), runtime.keys, 'p.yaml');
    expect(policy.default.kmsKeys).toEqual([app.arn]);
    expect(policy.default.target).toEqual({ mode: 'sse-kms', kmsKey: app.arn, bucketKey: false });
  });

  test('a key id against its alias ARN is the same key', async () => {
    const aliasArn = app.arn.replace(/:key\/.*$/, ':alias/app');
    const policy = await resolveKeys(parsePolicy(policyText(app.id, aliasArn), 'p.yaml'), runtime.keys, 'p.yaml');
    expect(policy.default.target?.kmsKey).toBe(app.arn);
  });

  test('a target naming another key is rejected, showing both keys as given and as resolved', async () => {
    const resolving = resolveKeys(parsePolicy(policyText('alias/app', 'alias/other'), 'p.yaml'), runtime.keys, 'p.yaml');
    const error = await resolving.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PolicyError);
    expect((error as PolicyError).problems).toEqual([
      `default.target.kmsKey: alias/other (${other.arn}) is not one of kmsKeys: alias/app (${app.arn})`,
    ]);
  });
});
