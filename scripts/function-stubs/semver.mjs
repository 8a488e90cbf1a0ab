// Stands in for `semver` inside aws-xray-sdk-core (scripts/function-plugins.mjs). The X-Ray SDK
// asks semver one question, in captureAWS (the AWS SDK v2 patcher, which sseguard never calls: its
// clients are v3, traced by captureAWSv3Client): is the v2 SDK at least version X? The whole of
// semver (≈ 29 KiB) for that kept the audit worker's bundle at its 1 MiB limit.

/** Whether dotted version `a` is at least `b` (release versions; a pre-release tag compares as its release). */
export function gte(a, b) {
  const parts = (v) => String(v).replace(/^v/, '').split(/[-+]/)[0].split('.').map((n) => Number.parseInt(n, 10) || 0);
  const [x, y] = [parts(a), parts(b)];
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) > (y[i] ?? 0);
  }
  return true;
}

export default { gte };
