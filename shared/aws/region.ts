// Is AWS_REGION (or a --regions entry) a Region? The SDK itself accepts any string and fails late and
// obscurely (`us-east-01` reached moto's web page: "Unexpected token '<'"; on AWS, a DNS name that does
// not resolve, retried as throttling). The rule, from the SDK's partition data (@aws-sdk/core):
// - a Region the SDK's partitions list is accepted;
// - an unlisted name is accepted when it has the shape every AWS Region code has had: lower-case
//   area, one or more words, and a number without a leading zero (`us-east-1`, `us-gov-west-1`,
//   `eusc-de-east-1`). A Region AWS opens after this SDK release is well formed and must not be
//   refused; `us-east-01`, `US-EAST-1`, `us_east_1` and `useast1` are not.
// The list below is copied from the partition data of the SDK in package-lock.json (@aws-sdk/core
// 3.981); a Region missing from it is still accepted by its shape, so a stale list refuses nothing.
export const KNOWN_REGIONS = [
  'af-south-1', 'ap-east-1', 'ap-east-2', 'ap-northeast-1', 'ap-northeast-2', 'ap-northeast-3', 'ap-south-1',
  'ap-south-2', 'ap-southeast-1', 'ap-southeast-2', 'ap-southeast-3', 'ap-southeast-4', 'ap-southeast-5',
  'ap-southeast-6', 'ap-southeast-7', 'ca-central-1', 'ca-west-1', 'eu-central-1', 'eu-central-2', 'eu-north-1',
  'eu-south-1', 'eu-south-2', 'eu-west-1', 'eu-west-2', 'eu-west-3', 'il-central-1', 'me-central-1', 'me-south-1',
  'me-west-1', 'mx-central-1', 'sa-east-1', 'sa-west-1', 'us-east-1', 'us-east-2', 'us-west-1', 'us-west-2',
  'cn-north-1', 'cn-northwest-1', 'eusc-de-east-1', 'us-iso-east-1', 'us-iso-west-1', 'us-isob-east-1',
  'us-isob-west-1', 'eu-isoe-west-1', 'us-isof-east-1', 'us-isof-south-1', 'us-gov-east-1', 'us-gov-west-1',
] as const;

const REGION_SHAPE = /^[a-z]{2,4}(-[a-z]+)+-[1-9][0-9]*$/;

/** Why `region` is not a Region, as one line naming the variable; undefined when it is one. */
export function regionProblem(region: string, name = 'AWS_REGION'): string | undefined {
  if ((KNOWN_REGIONS as readonly string[]).includes(region) || REGION_SHAPE.test(region)) return undefined;
  const guess = KNOWN_REGIONS.find((known) => known === region.toLowerCase().replace(/_/g, '-').replace(/-0+(\d)/g, '-$1'));
  return `${name} "${region}" is not an AWS Region (for example: us-east-1)${guess ? `: did you mean ${guess}?` : ''}`;
}

/** `--regions us-east-1,eu-west-1`: the names, each checked; throws one line naming the first bad one. */
export function parseRegionList(text: string, name = '--regions'): string[] {
  const regions = [...new Set(text.split(',').map((r) => r.trim()).filter(Boolean))];
  if (regions.length === 0) throw new Error(`${name} names no Region (for example: ${name} us-east-1,eu-west-1)`);
  for (const region of regions) {
    const problem = regionProblem(region, name);
    if (problem) throw new Error(problem);
  }
  return regions;
}
