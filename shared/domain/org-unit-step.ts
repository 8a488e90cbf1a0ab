/**
 * Where an Organization sweep's account × Region unit stands: the bucket (its index in the unit's
 * bucket list), the listing page, the continuation token. The org-unit message carries it
 * (events/org-messages.ts) and a page marker keeps it (findings/org-sweep-runs.ts).
 */
export interface OrgUnitStep {
  bucketIndex: number;
  page: number;
  token?: string;
}
