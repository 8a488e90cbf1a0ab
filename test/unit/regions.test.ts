import { expect, test } from 'vitest';
import { kmsRegionOf, parseArn } from '../../shared/aws/arn.ts';
import { parseRegionList, regionProblem } from '../../shared/aws/region.ts';
import { loadConfig } from '../../shared/config.ts';

test.each([
  ['arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab', 'us-east-1'],
  ['arn:aws:kms:eu-west-1:111122223333:alias/finance', 'eu-west-1'],
  ['arn:aws-us-gov:kms:us-gov-west-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab', 'us-gov-west-1'],
  ['arn:aws-cn:kms:cn-north-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab', 'cn-north-1'],
])('a KMS key or alias ARN names the Region its calls go to: %s', (arn, region) => {
  expect(kmsRegionOf(arn)).toBe(region);
});

test.each(['alias/finance', 'alias/aws/s3', '1234abcd-12ab-34cd-56ef-1234567890ab', 'mrk-1234abcd12ab34cd56ef1234567890ab', 'arn:aws:s3:::bucket', ''])(
  'a reference without a Region of its own (%s) names none',
  (ref) => {
    expect(kmsRegionOf(ref)).toBeUndefined();
  },
);

test('an ARN is read into its parts; anything else is not an ARN', () => {
  expect(parseArn('arn:aws:kms:us-east-1:111122223333:key/abc')).toEqual({
    partition: 'aws',
    service: 'kms',
    region: 'us-east-1',
    account: '111122223333',
    resource: 'key/abc',
  });
  expect(parseArn('arn:aws:s3:::my-bucket')).toMatchObject({ service: 's3', region: '', account: '', resource: 'my-bucket' });
  expect(parseArn('key/abc')).toBeUndefined();
  expect(parseArn('arn:aws:kms:us-east-1:12345:key/abc')).toBeUndefined();
});

test.each(['us-east-1', 'eu-west-1', 'us-gov-west-1', 'cn-northwest-1', 'eusc-de-east-1', 'us-isob-east-1', 'ap-southeast-7'])(
  'a Region the SDK lists is a Region: %s',
  (region) => {
    expect(regionProblem(region)).toBeUndefined();
  },
);

test('a Region AWS opens after this SDK release is accepted by its shape, not refused for being new', () => {
  expect(regionProblem('eu-central-9')).toBeUndefined();
  expect(regionProblem('ap-southwest-12')).toBeUndefined();
});

test.each([
  ['us-east-01', 'did you mean us-east-1?'],
  ['US-EAST-1', 'did you mean us-east-1?'],
  ['us_east_1', 'did you mean us-east-1?'],
  ['useast1', 'for example: us-east-1'],
  ['us-east', 'for example: us-east-1'],
  ['Frankfurt', 'for example: us-east-1'],
  ['us-east-1 ', 'for example: us-east-1'],
])('%s is not a Region: one line says so and what was meant', (region, hint) => {
  const problem = regionProblem(region);
  expect(problem).toContain(`AWS_REGION "${region}" is not an AWS Region`);
  expect(problem).toContain(hint);
  expect(problem).not.toContain('\n');
});

test('an invalid AWS_REGION stops the configuration at start, before any call (us-east-01 passed the old check)', () => {
  expect(() => loadConfig({ AWS_REGION: 'us-east-01' })).toThrow('AWS_REGION "us-east-01" is not an AWS Region (for example: us-east-1): did you mean us-east-1?');
  expect(() => loadConfig({ AWS_DEFAULT_REGION: 'eu-west-01' })).toThrow('did you mean eu-west-1?');
  expect(loadConfig({ AWS_REGION: 'eu-west-1' }).region).toBe('eu-west-1');
});

test('--regions takes a comma-separated list of Regions, each checked', () => {
  expect(parseRegionList('us-east-1, eu-west-1,us-east-1')).toEqual(['us-east-1', 'eu-west-1']);
  expect(() => parseRegionList('us-east-1,eu-west-01')).toThrow('--regions "eu-west-01" is not an AWS Region (for example: us-east-1): did you mean eu-west-1?');
  expect(() => parseRegionList(' , ')).toThrow('--regions names no Region');
});

test('SSEGUARD_SWEEP_REGIONS limits the sweep to those Regions; each is checked at start', () => {
  expect(loadConfig({ AWS_REGION: 'us-east-1' }).sweepRegions).toEqual([]);
  expect(loadConfig({ AWS_REGION: 'us-east-1', SSEGUARD_SWEEP_REGIONS: 'eu-west-1, us-east-1' }).sweepRegions).toEqual(['eu-west-1', 'us-east-1']);
  expect(() => loadConfig({ AWS_REGION: 'us-east-1', SSEGUARD_SWEEP_REGIONS: 'eu-west-1,euwest2' })).toThrow('SSEGUARD_SWEEP_REGIONS "euwest2" is not an AWS Region');
});
