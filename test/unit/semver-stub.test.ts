// The stand-in for semver in the function bundles answers the X-Ray SDK's one question (is the v2
// SDK at least 2.7.0?) as semver.gte does.
import { expect, it } from 'vitest';
// @ts-expect-error -- a plain .mjs stub without type declarations
import { gte } from '../../scripts/function-stubs/semver.mjs';

it.each([
  ['2.7.0', '2.7.0', true],
  ['2.1600.0', '2.7.0', true],
  ['2.6.9', '2.7.0', false],
  ['10.0.0', '9.99.99', true],
  ['2.10.0', '2.9.0', true],
  ['1.99.0', '2.0.0', false],
])('gte(%s, %s) is %s, as semver says', (a, b, expected) => {
  expect(gte(a, b)).toBe(expected);
});
