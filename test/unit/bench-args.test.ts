import { describe, expect, test } from 'vitest';
import { benchArgs } from '../../bench/args.ts';

describe('npm run bench: the arguments passed on to the benches', () => {
  test('without --only every argument goes on, --json first included', () => {
    expect(benchArgs(['--json', '--objects', '500'])).toEqual({ only: undefined, rest: ['--json', '--objects', '500'] });
    expect(benchArgs(['--json'])).toEqual({ only: undefined, rest: ['--json'] });
  });

  test('--only and its name are taken out, wherever they stand', () => {
    expect(benchArgs(['--only', 'report', '--json'])).toEqual({ only: 'report', rest: ['--json'] });
    expect(benchArgs(['--json', '--only', 'fleet', '--objects', '10'])).toEqual({ only: 'fleet', rest: ['--json', '--objects', '10'] });
  });
});
