// Produces a pack into a folder: the findings table read one object at a time (a Scan, page by
// page), the pack computed and written as the objects pass, a sample re-checked when asked, the
// manifest signed. The one path `sseguard evidence` and the scheduled pack
// (functions/evidence-pack.ts) both take.
import { ensureEmptyPackDir, writeEvidencePack, type PackWriteOptions } from './files.ts';
import { gatherEvidenceContext, tableObjects, type GatherDependencies } from './gather.ts';
import type { Manifest } from './integrity.ts';
import type { EvidenceOptions, EvidencePack } from './pack.ts';

export async function producePack(deps: GatherDependencies & PackWriteOptions, options: EvidenceOptions, dir: string): Promise<{ pack: EvidencePack; manifest: Manifest }> {
  await ensureEmptyPackDir(dir);
  const { summary: _summary, ...context } = await gatherEvidenceContext(deps);
  return writeEvidencePack({ context, objects: tableObjects(deps) }, options, dir, deps);
}
