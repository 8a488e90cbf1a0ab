// Produces a pack into a folder: gathers the findings table's records, builds the pack as of the
// time, re-checks a sample when asked, writes every file and the manifest, signs it. The one path
// `sseguard evidence` and the scheduled pack (functions/evidence-pack.ts) both take.
import { packFiles } from './files.ts';
import { gatherEvidenceInputs, type GatherDependencies } from './gather.ts';
import { writePack, type Manifest, type Signer } from './integrity.ts';
import { buildEvidence, type EvidenceInputs, type EvidenceOptions, type EvidencePack, type SampleReport } from './pack.ts';

export interface ProduceDependencies extends GatherDependencies {
  signer?: Signer;
  /** Re-checks a sample of the population live (the CLI's --sample); absent: no sample. */
  sample?: (inputs: EvidenceInputs, options: EvidenceOptions) => Promise<SampleReport>;
}

export async function producePack(deps: ProduceDependencies, options: EvidenceOptions, dir: string, gaps: string[] = []): Promise<{ pack: EvidencePack; manifest: Manifest }> {
  const inputs = await gatherEvidenceInputs(deps);
  const pack = buildEvidence(inputs, options);
  pack.gaps.push(...gaps);
  if (deps.sample) pack.sample = await deps.sample(inputs, options);
  if (!deps.signer) pack.gaps.push('the pack is not signed: no --signing-key or $SSEGUARD_EVIDENCE_SIGNING_KEY');
  const manifest = await writePack(dir, packFiles(pack, inputs, options, deps.signer?.keyId), { generatedAt: pack.generatedAt, asOf: pack.asOf }, deps.signer);
  return { pack, manifest };
}
