// `sseguard member-template`: the CloudFormation template a service-managed StackSet deploys into
// every member account (shared/deploy/member-template.ts). Pure: no AWS call, no credentials.
import { writeFileSync } from 'node:fs';
import { stringify as toYaml } from 'yaml';
import { memberTemplate, memberTemplateProblems, type MemberTemplateOptions } from '#shared/deploy/member-template.ts';

export interface MemberTemplateFlags extends MemberTemplateOptions {
  /** A file to write; `.yaml`/`.yml` gives YAML, anything else JSON. None: JSON on stdout. */
  out?: string;
}

const MANAGEMENT_ACCOUNT_NOTE =
  'StackSets never deploy to the management account: if its buckets are in scope, create one stack of this template there too.';

/**
 * YAML that CloudFormation reads as the JSON would be: no anchors or aliases (CloudFormation does
 * not take them; the roles share one trust object), and YAML 1.1 quoting, so "2010-09-09" stays a
 * string where a 1.1 parser would read a date.
 */
export const templateYaml = (template: object): string => toYaml(template, { lineWidth: 0, aliasDuplicateObjects: false, version: '1.1' });

export function memberTemplateCommand(
  flags: MemberTemplateFlags,
  io: { out: (text: string) => void; err: (line: string) => void } = { out: (text) => process.stdout.write(text), err: (line) => console.error(line) },
): number {
  const { out, ...options } = flags;
  const problems = memberTemplateProblems(options);
  if (problems.length > 0) {
    for (const problem of problems) io.err(`sseguard member-template: ${problem}`);
    return 2;
  }
  const template = memberTemplate(options);
  const text = out && /\.ya?ml$/i.test(out) ? templateYaml(template) : `${JSON.stringify(template, null, 2)}\n`;
  if (out) {
    writeFileSync(out, text);
    io.err(`wrote ${out} (${Object.keys(template.Resources).join(', ')})`);
  } else {
    io.out(text);
  }
  io.err(MANAGEMENT_ACCOUNT_NOTE);
  return 0;
}
