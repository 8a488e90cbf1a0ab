// ARNs as sseguard reads them: `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`. A KMS key or alias
// ARN names the Region and account that own the key, and that is where every call about the key
// goes (never the process's own Region: the same key id asked of another Region is "not found").

export interface Arn {
  partition: string;
  service: string;
  region: string;
  account: string;
  resource: string;
}

const ARN = /^arn:(aws[a-z-]*):([a-z0-9-]+):([a-z0-9-]*):(\d{12}|aws|):(.+)$/;

/** The parts of an ARN, or undefined for anything that is not one (a key id, `alias/NAME`). */
export function parseArn(text: string): Arn | undefined {
  const match = ARN.exec(text);
  if (!match) return undefined;
  const [, partition, service, region, account, resource] = match as unknown as [string, string, string, string, string, string];
  return { partition, service, region, account, resource };
}

/**
 * The Region a KMS key reference names: a key ARN's or an alias ARN's own; undefined for a bare key
 * id or `alias/NAME`, which mean "in the Region asked" (see KmsKeyInspector for which one that is).
 */
export function kmsRegionOf(keyRef: string): string | undefined {
  const arn = parseArn(keyRef);
  return arn?.service === 'kms' && arn.region ? arn.region : undefined;
}
