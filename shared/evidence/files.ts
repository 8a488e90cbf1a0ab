// Writes a pack into a folder as the objects pass, in bounded memory: the long lists (exceptions,
// fixes, verdict changes) go row by row into their CSV and into evidence.json, every history entry
// into history.jsonl and each chain head into chain-heads.jsonl; the HTML keeps the first HTML_ROWS
// of each list. Then the manifest (every file's SHA-256, read back from disk) and its signature.
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ConfigError } from '../config.ts';
import { HEADS, HISTORY, sealPackDir, VERIFY_COMMAND, type Manifest, type Signer } from './integrity.ts';
import { EvidenceAccumulator, type EvidenceContext, type EvidenceOptions, type EvidencePack, type ObjectRecords, type PopulationObject, type SampleReport } from './pack.ts';
import { LIST_CSV, renderCsv, renderHtml } from './render.ts';

/** A file written line by line; `drained()` waits while the disk is behind, so lines never pile up in memory. */
class LineFile {
  private readonly stream: WriteStream;
  lines = 0;
  constructor(path: string, header = '') {
    this.stream = createWriteStream(path);
    if (header) this.stream.write(header);
  }
  write(text: string): void {
    this.lines += 1;
    this.stream.write(text);
  }
  async drained(): Promise<void> {
    if (this.stream.writableNeedDrain) await once(this.stream, 'drain');
  }
  async close(): Promise<void> {
    this.stream.end();
    await once(this.stream, 'finish');
  }
}

export interface PackSource {
  context: EvidenceContext;
  /** Every object's records, one object at a time (each object's items together). */
  objects: AsyncIterable<[string, ObjectRecords]>;
}

export interface PackWriteOptions {
  signer?: Signer;
  /** Draws `size` objects while they pass (seeded) and re-checks them live when the pass is over. */
  sample?: { size: number; seed: number; check: (drawn: PopulationObject[], drawnFrom: number) => Promise<SampleReport> };
  /** Gaps the caller knows of (no policy given, …), after the pack's own. */
  gaps?: string[];
}

const LISTS = ['exceptions', 'fixes', 'verdictChanges'] as const;
// Where each long list goes in evidence.json: random per process, so no object key can be mistaken for one.
const MARKER_NONCE = randomUUID();
const marker = (list: string) => `@@sseguard-evidence-list:${list}:${MARKER_NONCE}@@`;

/** The manifest lists every file in the folder: another pack's files would be signed into this one. */
export async function ensureEmptyPackDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  if ((await readdir(dir)).length > 0) throw new ConfigError(`${dir} is not empty: a pack is written into a new or empty folder`);
}

export async function writeEvidencePack(source: PackSource, options: EvidenceOptions, dir: string, write: PackWriteOptions = {}): Promise<{ pack: EvidencePack; manifest: Manifest }> {
  await ensureEmptyPackDir(dir);
  // The JSON rows of the long lists wait here until evidence.json is written around them.
  const parts = await mkdtemp(join(tmpdir(), 'sseguard-evidence-lists-'));
  try {
    const csvs = { exceptions: new LineFile(join(dir, LIST_CSV.exceptions.file), LIST_CSV.exceptions.header), fixes: new LineFile(join(dir, LIST_CSV.fixes.file), LIST_CSV.fixes.header), verdictChanges: new LineFile(join(dir, LIST_CSV.verdictChanges.file), LIST_CSV.verdictChanges.header) };
    const jsonl = Object.fromEntries(LISTS.map((list) => [list, new LineFile(join(parts, `${list}.jsonl`))])) as Record<(typeof LISTS)[number], LineFile>;
    const history = new LineFile(join(dir, HISTORY));
    const heads = new LineFile(join(dir, HEADS));
    const files = [...Object.values(csvs), ...Object.values(jsonl), history, heads];
    const accumulator = new EvidenceAccumulator(
      source.context,
      options,
      {
        exception: (o) => (csvs.exceptions.write(LIST_CSV.exceptions.line(o)), jsonl.exceptions.write(`${JSON.stringify(o)}\n`)),
        fix: (f) => (csvs.fixes.write(LIST_CSV.fixes.line(f)), jsonl.fixes.write(`${JSON.stringify(f)}\n`)),
        verdictChange: (c) => (csvs.verdictChanges.write(LIST_CSV.verdictChanges.line(c)), jsonl.verdictChanges.write(`${JSON.stringify(c)}\n`)),
        history: (id, entries, head) => {
          for (const entry of entries) history.write(`${JSON.stringify({ object: id, ...entry })}\n`);
          if (head) heads.write(`${JSON.stringify({ object: id, chainHead: head })}\n`);
        },
      },
      write.sample ? { size: write.sample.size, seed: write.sample.seed } : undefined,
    );
    for await (const [id, records] of source.objects) {
      accumulator.add(id, records);
      for (const file of files) await file.drained();
    }
    const pack = accumulator.finish();
    pack.gaps.push(...(write.gaps ?? []));
    if (write.sample && accumulator.sample) pack.sample = await write.sample.check(accumulator.sample.drawn(), accumulator.sample.drawnFrom);
    if (!write.signer) pack.gaps.push('the pack is not signed: no --signing-key or $SSEGUARD_EVIDENCE_SIGNING_KEY');
    await Promise.all(files.map((file) => file.close()));

    await writeEvidenceJson(join(dir, 'evidence.json'), pack, parts);
    await writeFile(join(dir, 'report.html'), renderHtml(pack, { ...(write.signer ? { signingKey: write.signer.keyId } : {}), verifyCommand: VERIFY_COMMAND }));
    for (const [name, content] of Object.entries(renderCsv(pack))) await writeFile(join(dir, name), content);
    const manifest = await sealPackDir(dir, { generatedAt: pack.generatedAt, asOf: pack.asOf }, write.signer);
    return { pack, manifest };
  } finally {
    await rm(parts, { recursive: true, force: true });
  }
}

/** evidence.json: the pack, its long lists complete (streamed from their JSON lines). */
async function writeEvidenceJson(path: string, pack: EvidencePack, parts: string): Promise<void> {
  const placeholder: EvidencePack = {
    ...pack,
    exceptions: { ...pack.exceptions, objects: marker('exceptions') as unknown as PopulationObject[] },
    changes: { ...pack.changes, fixes: marker('fixes') as unknown as EvidencePack['changes']['fixes'], verdictChanges: marker('verdictChanges') as unknown as EvidencePack['changes']['verdictChanges'] },
  };
  let text = `${JSON.stringify(placeholder, null, 2)}\n`;
  const out = createWriteStream(path);
  const put = async (chunk: string) => {
    if (!out.write(chunk)) await once(out, 'drain');
  };
  for (;;) {
    const next = LISTS.map((list) => ({ list, at: text.indexOf(`"${marker(list)}"`) })).filter((m) => m.at >= 0).sort((a, b) => a.at - b.at)[0];
    if (!next) break;
    await put(text.slice(0, next.at));
    await put('[');
    let first = true;
    for await (const line of createInterface({ input: createReadStream(join(parts, `${next.list}.jsonl`)), crlfDelay: Infinity })) {
      if (!line) continue;
      await put(`${first ? '\n' : ',\n'}${line}`);
      first = false;
    }
    await put(first ? ']' : '\n]');
    text = text.slice(next.at + marker(next.list).length + 2);
  }
  await put(text);
  out.end();
  await once(out, 'finish');
}
