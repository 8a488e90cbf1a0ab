// The pack's files (all but the manifest, its signature and the public key): the JSON document, the
// HTML report, one CSV per table, and the history the chains are checked from.
import { HEADS, HISTORY, VERIFY_COMMAND } from './integrity.ts';
import type { EvidenceInputs, EvidenceOptions, EvidencePack } from './pack.ts';
import { renderCsv, renderHtml } from './render.ts';

/** The pack's files (all but the manifest, signature and public key). */
export function packFiles(pack: EvidencePack, inputs: EvidenceInputs, options: EvidenceOptions, signingKey?: string): Record<string, string> {
  const history: string[] = [];
  const heads: string[] = [];
  const ids = [...inputs.objects.keys()].sort();
  for (const id of ids) {
    const records = inputs.objects.get(id)!;
    if (options.scope.buckets && !options.scope.buckets.includes(records.bucket)) continue;
    for (const entry of [...records.history].sort((a, b) => (a.sk < b.sk ? -1 : 1))) history.push(JSON.stringify({ object: id, ...entry }));
    if (records.state?.chainHead) heads.push(JSON.stringify({ object: id, chainHead: records.state.chainHead }));
  }
  return {
    'evidence.json': `${JSON.stringify(pack, null, 2)}\n`,
    'report.html': renderHtml(pack, { ...(signingKey ? { signingKey } : {}), verifyCommand: VERIFY_COMMAND }),
    ...renderCsv(pack),
    [HISTORY]: history.length ? `${history.join('\n')}\n` : '',
    [HEADS]: heads.length ? `${heads.join('\n')}\n` : '',
  };
}
