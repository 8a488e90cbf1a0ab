import { expect, test } from 'vitest';
import { ConfigError, loadConfig } from '../../shared/config.ts';

test('defaults: the findings table name, no endpoint, no policy', () => {
  expect(loadConfig({ AWS_REGION: 'eu-west-1' })).toEqual({ region: 'eu-west-1', table: 'sseguard-findings' });
});

test('AWS_DEFAULT_REGION is accepted where AWS_REGION is unset, as the AWS CLI does', () => {
  expect(loadConfig({ AWS_DEFAULT_REGION: 'us-west-2' }).region).toBe('us-west-2');
});

test.each([
  [{}, 'AWS_REGION is not set'],
  [{ AWS_REGION: '' }, 'AWS_REGION is not set'],
  [{ AWS_REGION: 'Frankfurt' }, 'AWS_REGION is not a region name'],
  [{ AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL: 'localhost:4566' }, 'AWS_ENDPOINT_URL is not an http(s) URL'],
  [{ AWS_REGION: 'us-east-1', SSEGUARD_TABLE: 'a b' }, 'SSEGUARD_TABLE is not a DynamoDB table name'],
])('%j → one clear line: %s', (env, message) => {
  expect(() => loadConfig(env)).toThrow(ConfigError);
  expect(() => loadConfig(env)).toThrow(message);
});

test('all settings read', () => {
  expect(
    loadConfig({
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL: 'http://127.0.0.1:4566',
      SSEGUARD_TABLE: 'findings.prod',
      SSEGUARD_POLICY: 'policy.yaml',
    }),
  ).toEqual({ region: 'us-east-1', endpoint: 'http://127.0.0.1:4566', table: 'findings.prod', policyPath: 'policy.yaml' });
});
