// The Organization sweep's messages on the audit queue. The sweep sends one `sseguard.org-account`
// per account in scope; the worker that takes it assumes the account's role, lists its buckets and
// sends one `sseguard.org-unit` per account × Region: that unit walks its buckets one listing page
// per message (audit the page's objects, count them, send the next step), so at most one message
// of an account × Region is in flight at a time — the per-account bound on request rates.
import { z } from 'zod';
import type { OrgUnitStep } from '../domain/org-unit-step.ts';

export const ORG_ACCOUNT_MESSAGE_KIND = 'sseguard.org-account';
export const ORG_UNIT_MESSAGE_KIND = 'sseguard.org-unit';

const accountId = z.string().regex(/^\d{12}$/, 'not a 12-digit AWS account id');
const regionName = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'not a Region name');

export const OrgAccountMessageSchema = z.object({
  kind: z.literal(ORG_ACCOUNT_MESSAGE_KIND),
  runId: z.string().min(1),
  account: accountId,
});
export type OrgAccountMessage = z.infer<typeof OrgAccountMessageSchema>;

/** Where a unit stands (domain/org-unit-step.ts). */
export const OrgUnitStepSchema = z.object({
  bucketIndex: z.number().int().nonnegative(),
  page: z.number().int().nonnegative(),
  token: z.string().min(1).optional(),
}) satisfies z.ZodType<OrgUnitStep>;
export type { OrgUnitStep };

export const OrgUnitMessageSchema = OrgUnitStepSchema.extend({
  kind: z.literal(ORG_UNIT_MESSAGE_KIND),
  runId: z.string().min(1),
  account: accountId,
  region: regionName,
});
export type OrgUnitMessage = z.infer<typeof OrgUnitMessageSchema>;

export const orgAccountMessage = (runId: string, account: string): string => JSON.stringify({ kind: ORG_ACCOUNT_MESSAGE_KIND, runId, account } satisfies OrgAccountMessage);

export const orgUnitMessage = (runId: string, account: string, region: string, step: OrgUnitStep): string =>
  JSON.stringify({ kind: ORG_UNIT_MESSAGE_KIND, runId, account, region, ...step } satisfies OrgUnitMessage);
