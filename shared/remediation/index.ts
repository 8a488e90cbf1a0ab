// The remediation engine: plan the least invasive safe fix per object (pure), carry it out on S3
// (conditional writes only), verify with HeadObject. The audit worker, the sweep and
// `sseguard scan --remediate` all call it through this module.
export { describePlan, dryRunTotals, planRemediation, isAtTarget } from './fix-plan.ts';
export type { DryRunTotals, FixEstimate, PlanInput, PlanOptions, RemediationFacts, RemediationPlan, RemediationTarget } from './fix-plan.ts';
export { remediateObject } from './execute.ts';
export type { RemediationDependencies, RemediationOptions, RemediationOutcome } from './execute.ts';
export type { EncryptionSnapshot, ObservedEncryptionSnapshot } from '../domain/encryption-snapshot.ts';
export { BLOCKED_OUTCOMES, REMEDIATION_ACTIONS, REMEDIATION_OUTCOMES, isBlockedOutcome } from './outcomes.ts';
export type { BlockedOutcome, RemediationAction, RemediationOutcomeCode } from './outcomes.ts';
