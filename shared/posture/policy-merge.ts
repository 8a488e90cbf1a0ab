// Adds sseguard's TLS-only deny statement to a bucket policy by splicing it into the policy text:
// every byte of the existing document, its statements included, stays as it was. Pure.
import { analyseTls, bucketArn, parseBucketPolicy } from './bucket-policy.ts';

export const TLS_DENY_SID = 'SseguardDenyInsecureTransport';
/** S3's limit on the size of a bucket policy. */
export const MAX_BUCKET_POLICY_BYTES = 20 * 1024;

/**
 * The AWS-recommended TLS-only statement. It denies only requests without TLS, so the caller (who
 * uses TLS) keeps its own access: PutBucketPolicy never needs ConfirmRemoveSelfBucketAccess for it.
 */
export function tlsDenyStatement(bucket: string, partition = 'aws') {
  return {
    Sid: TLS_DENY_SID,
    Effect: 'Deny',
    Principal: '*',
    Action: 's3:*',
    Resource: [bucketArn(bucket, partition), `${bucketArn(bucket, partition)}/*`],
    Condition: { Bool: { 'aws:SecureTransport': 'false' } },
  };
}

export type MergeResult =
  | { status: 'merged'; text: string }
  | { status: 'already-enforced' }
  | { status: 'refused'; reason: string };

// ---------------------------------------------------------------- a minimal JSON scanner (spans only)

function skipSpace(text: string, at: number): number {
  while (at < text.length && ' \t\r\n'.includes(text[at]!)) at++;
  return at;
}

/** The index just past the JSON value starting at `at` (the text is known to be valid JSON). */
function valueEnd(text: string, at: number): number {
  const first = text[at];
  if (first === '"') {
    let i = at + 1;
    while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    return i + 1;
  }
  if (first === '{' || first === '[') {
    const close = first === '{' ? '}' : ']';
    let i = skipSpace(text, at + 1);
    if (text[i] === close) return i + 1;
    for (;;) {
      if (first === '{') {
        i = skipSpace(text, valueEnd(text, i)); // key
        i = skipSpace(text, i + 1); // past ':'
      }
      i = skipSpace(text, valueEnd(text, i));
      if (text[i] === close) return i + 1;
      i = skipSpace(text, i + 1); // past ','
    }
  }
  let i = at;
  while (i < text.length && !',}] \t\r\n'.includes(text[i]!)) i++;
  return i;
}

/** Spans of the top-level members named `name` (start and end of each value). */
function memberSpans(text: string, name: string): { start: number; end: number }[] {
  const spans: { start: number; end: number }[] = [];
  let i = skipSpace(text, 0) + 1;
  i = skipSpace(text, i);
  if (text[i] === '}') return spans;
  for (;;) {
    const keyEnd = valueEnd(text, i);
    const key = JSON.parse(text.slice(i, keyEnd)) as string;
    const start = skipSpace(text, skipSpace(text, keyEnd) + 1);
    const end = valueEnd(text, start);
    if (key === name) spans.push({ start, end });
    i = skipSpace(text, end);
    if (text[i] === '}') return spans;
    i = skipSpace(text, i + 1);
  }
}

/** The value spans of an array's elements. */
function elementSpans(text: string, start: number): { start: number; end: number }[] {
  const spans: { start: number; end: number }[] = [];
  let i = skipSpace(text, start + 1);
  if (text[i] === ']') return spans;
  for (;;) {
    const end = valueEnd(text, i);
    spans.push({ start: i, end });
    i = skipSpace(text, end);
    if (text[i] === ']') return spans;
    i = skipSpace(text, i + 1);
  }
}

// ---------------------------------------------------------------- merge

/** The statements of a policy as JSON text each, for comparing before and after a merge. */
export function statementTexts(policyText: string): string[] {
  const statement = (JSON.parse(policyText) as { Statement: unknown }).Statement;
  return (Array.isArray(statement) ? statement : [statement]).map((s) => JSON.stringify(s));
}

/**
 * Adds the TLS deny to `existing` (undefined: the bucket has no policy). Refuses a policy it cannot
 * parse, an ambiguous one (two Statement members), a Sid clash, or a result over S3's size limit.
 */
export function mergeTlsDeny(existing: string | undefined, bucket: string, partition = 'aws'): MergeResult {
  const statementText = JSON.stringify(tlsDenyStatement(bucket, partition));
  if (existing === undefined) {
    return { status: 'merged', text: `{"Version":"2012-10-17","Statement":[${statementText}]}` };
  }
  const parsed = parseBucketPolicy(existing);
  if (!parsed.ok) return { status: 'refused', reason: `the bucket policy cannot be parsed (${parsed.problem}); fix it by hand first` };
  if (analyseTls(parsed.statements, bucket, partition).enforced) return { status: 'already-enforced' };
  if (parsed.statements.some((s) => s.sid === TLS_DENY_SID)) {
    return { status: 'refused', reason: `a statement with Sid ${TLS_DENY_SID} exists but does not enforce TLS; review it by hand` };
  }
  const spans = memberSpans(existing, 'Statement');
  if (spans.length !== 1) return { status: 'refused', reason: 'the policy has more than one Statement member' };
  const span = spans[0]!;

  let text: string;
  if (existing[span.start] === '[') {
    const elements = elementSpans(existing, span.start);
    if (elements.length === 0) {
      const close = span.end - 1;
      text = `${existing.slice(0, close)}${statementText}${existing.slice(close)}`;
    } else {
      // Separate the new statement the way the first two are separated (or by ", ").
      const separator = elements.length > 1 ? existing.slice(elements[0]!.end, elements[1]!.start) : existing.slice(span.start + 1, elements[0]!.start).includes('\n') ? `,${existing.slice(span.start + 1, elements[0]!.start)}` : ', ';
      const last = elements[elements.length - 1]!;
      text = `${existing.slice(0, last.end)}${separator}${statementText}${existing.slice(last.end)}`;
    }
  } else {
    text = `${existing.slice(0, span.start)}[${existing.slice(span.start, span.end)}, ${statementText}]${existing.slice(span.end)}`;
  }

  if (Buffer.byteLength(text, 'utf8') > MAX_BUCKET_POLICY_BYTES) {
    return { status: 'refused', reason: `the merged policy would exceed S3's ${MAX_BUCKET_POLICY_BYTES}-byte limit` };
  }
  // Prove the splice: the old statements come first, unchanged, and the result enforces TLS.
  const before = statementTexts(existing);
  const after = statementTexts(text);
  const kept = before.every((s, i) => after[i] === s) && after.length === before.length + 1;
  const reparsed = parseBucketPolicy(text);
  if (!kept || !reparsed.ok || !analyseTls(reparsed.statements, bucket, partition).enforced) {
    return { status: 'refused', reason: 'merging would not keep the existing statements unchanged' };
  }
  return { status: 'merged', text };
}

/** A line diff (longest common subsequence), `-`/`+`/` ` prefixed, for --dry-run. */
export function lineDiff(before: string, after: string): string {
  const a = before === '' ? [] : before.split('\n');
  const b = after.split('\n');
  const common: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      common[i]![j] = a[i] === b[j] ? common[i + 1]![j + 1]! + 1 : Math.max(common[i + 1]![j]!, common[i]![j + 1]!);
    }
  }
  const lines: string[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      lines.push(`  ${a[i]}`);
      i++;
      j++;
    } else if (common[i + 1]![j]! >= common[i]![j + 1]!) lines.push(`- ${a[i++]}`);
    else lines.push(`+ ${b[j++]}`);
  }
  while (i < a.length) lines.push(`- ${a[i++]}`);
  while (j < b.length) lines.push(`+ ${b[j++]}`);
  return lines.join('\n');
}
