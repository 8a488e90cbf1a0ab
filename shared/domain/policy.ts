// The encryption policy: a versioned document (JSON or YAML) that says, per bucket and prefix, which
// encryption objects must have, which KMS keys are allowed, and what to do about objects that differ.
// One module per reason to change, re-exported here for importers of `#shared/domain/policy.ts`:
//   policy-schema.ts    what a document may say (zod), with the path of every bad field
//   policy-model.ts     the completed policy's types and PolicyError
//   policy-complete.ts  defaults, inheritance, derived targets, checks between fields
//   policy-keys.ts      key references resolved to key ARNs, then compared
//   policy-match.ts     which rule and which exemptions apply to a bucket or object
export {
  CLIENT_SIDE_ACCEPTANCE,
  DEFAULT_POLICY_DOCUMENT,
  REQUIRED_MODES,
  TARGET_MODES,
  type ClientSideAcceptance,
  type PolicyDocument,
  type RequiredMode,
  type TargetMode,
} from './policy-schema.ts';
export * from './policy-model.ts';
export { parsePolicy, policyFromDocument } from './policy-complete.ts';
export * from './policy-keys.ts';
export * from './policy-match.ts';
