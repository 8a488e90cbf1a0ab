// The pack's integrity: a manifest listing the SHA-256 of every file, signed with a KMS asymmetric
// key (ECDSA_SHA_256 on ECC_NIST_P256) over the manifest's SHA-256 digest, so that
// `openssl dgst -sha256 -verify public-key.pem -signature manifest.sig manifest.json` checks it
// offline; and the check itself (`sseguard evidence verify`): every file, the signature (offline,
// optionally with KMS Verify) and the history chains the pack carries.
import { createHash, createPublicKey, verify as verifySignature } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { GetPublicKeyCommand, SignCommand, VerifyCommand, type KMSClient } from '@aws-sdk/client-kms';
import { retrying } from '../aws/retry.ts';
import { isTransientServiceError } from '../aws/errors.ts';
import { checkChain, type StoredHistoryEntry } from '../findings/history-chain.ts';

export const MANIFEST = 'manifest.json';
export const SIGNATURE = 'manifest.sig';
export const PUBLIC_KEY = 'public-key.pem';
export const HISTORY = 'history.jsonl';
export const HEADS = 'chain-heads.jsonl';
export const VERIFY_COMMAND = `openssl dgst -sha256 -verify ${PUBLIC_KEY} -signature ${SIGNATURE} ${MANIFEST}`;
const SIGNING_ALGORITHM = 'ECDSA_SHA_256';

const KMS_RETRY = { attempts: 5, baseMs: 100, capMs: 2_000 };
const sha256 = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');

export interface Manifest {
  format: 'sseguard-evidence/1';
  generatedAt: string;
  asOf: string;
  signing?: { keyId: string; algorithm: typeof SIGNING_ALGORITHM; publicKeyFile: typeof PUBLIC_KEY };
  files: { name: string; sha256: string; bytes: number }[];
}

export interface Signer {
  keyId: string;
  publicKeyPem(): Promise<string>;
  /** The DER signature over the SHA-256 digest of `message`. */
  sign(message: Uint8Array): Promise<Uint8Array>;
}

/**
 * What KMS signs: the manifest itself (RAW: KMS hashes it with SHA-256) while it fits KMS's 4096-byte
 * message limit — it lists a fixed set of files, so it does — else its SHA-256 digest (DIGEST). Both
 * give the ECDSA signature over SHA-256(manifest) that `openssl dgst -sha256 -verify` checks.
 */
const KMS_RAW_LIMIT = 4096;
const kmsMessage = (message: Uint8Array) =>
  message.byteLength <= KMS_RAW_LIMIT
    ? { Message: message, MessageType: 'RAW' as const }
    : { Message: createHash('sha256').update(message).digest(), MessageType: 'DIGEST' as const };

const kmsCall = <T>(what: string, call: () => Promise<T>) => retrying(`KMS ${what}`, call, KMS_RETRY, isTransientServiceError);

/** A KMS asymmetric signing key; refuses a key that is not ECC_NIST_P256 for SIGN_VERIFY. */
export function kmsSigner(kms: KMSClient, keyId: string): Signer {
  return {
    keyId,
    async publicKeyPem() {
      const key = await kmsCall('GetPublicKey', () => kms.send(new GetPublicKeyCommand({ KeyId: keyId })));
      // The key material says what it is (moto leaves KeySpec out of GetPublicKey's answer).
      const publicKey = key.PublicKey ? createPublicKey({ key: Buffer.from(key.PublicKey), format: 'der', type: 'spki' }) : undefined;
      const curve = publicKey?.asymmetricKeyType === 'ec' ? publicKey.asymmetricKeyDetails?.namedCurve : undefined;
      const spec = key.KeySpec ?? key.CustomerMasterKeySpec;
      if (!publicKey || curve !== 'prime256v1' || key.KeyUsage !== 'SIGN_VERIFY' || (spec !== undefined && spec !== 'ECC_NIST_P256')) {
        throw new Error(`signing key ${keyId} must be an ECC_NIST_P256 key for SIGN_VERIFY (it is ${spec ?? publicKey?.asymmetricKeyType ?? '?'} for ${key.KeyUsage ?? '?'})`);
      }
      return publicKey.export({ type: 'spki', format: 'pem' }).toString();
    },
    async sign(message) {
      const signed = await kmsCall('Sign', () => kms.send(new SignCommand({ KeyId: keyId, ...kmsMessage(message), SigningAlgorithm: SIGNING_ALGORITHM })));
      if (!signed.Signature) throw new Error('KMS Sign returned no signature');
      return signed.Signature;
    },
  };
}

/** Writes the files, the public key and the manifest, and signs the manifest when a signer is given. */
export async function writePack(
  dir: string,
  files: Record<string, string | Uint8Array>,
  meta: { generatedAt: string; asOf: string },
  signer?: Signer,
): Promise<Manifest> {
  await mkdir(dir, { recursive: true });
  for (const [name, data] of Object.entries(files)) await writeFile(join(dir, name), data);
  return sealPackDir(dir, meta, signer);
}

/** The SHA-256 of a file, read as a stream (a pack's files can be larger than memory). */
async function fileSha256(path: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).byteLength;
  }
  return { sha256: hash.digest('hex'), bytes };
}

/** Adds the public key and VERIFY.txt to the files in `dir`, lists every file with its SHA-256 in the manifest, signs it. */
export async function sealPackDir(dir: string, meta: { generatedAt: string; asOf: string }, signer?: Signer): Promise<Manifest> {
  if (signer) await writeFile(join(dir, PUBLIC_KEY), await signer.publicKeyPem());
  await writeFile(join(dir, 'VERIFY.txt'), verifyInstructions(Boolean(signer)));
  const names = (await readdir(dir)).filter((name) => name !== MANIFEST && name !== SIGNATURE).sort();
  const files: Manifest['files'] = [];
  for (const name of names) files.push({ name, ...(await fileSha256(join(dir, name))) });
  const manifest: Manifest = {
    format: 'sseguard-evidence/1',
    generatedAt: meta.generatedAt,
    asOf: meta.asOf,
    ...(signer ? { signing: { keyId: signer.keyId, algorithm: SIGNING_ALGORITHM, publicKeyFile: PUBLIC_KEY } } : {}),
    files,
  };
  const manifestText = `${JSON.stringify(manifest, null, 2)}\n`;
  await writeFile(join(dir, MANIFEST), manifestText);
  if (signer) await writeFile(join(dir, SIGNATURE), await signer.sign(Buffer.from(manifestText)));
  return manifest;
}

function verifyInstructions(signed: boolean): string {
  return [
    'How to check this evidence pack without trusting sseguard:',
    '',
    '1. The manifest lists the SHA-256 of every other file; check each, e.g.:',
    '     sha256sum population.csv   # compare with manifest.json',
    signed ? '2. The manifest is signed with a KMS key (ECDSA_SHA_256, NIST P-256); its public key is public-key.pem:' : '2. This pack is NOT signed (no signing key was given).',
    ...(signed ? [`     ${VERIFY_COMMAND}`, '   prints "Verified OK". Compare the public key with `aws kms get-public-key --key-id <manifest.signing.keyId>`.'] : []),
    '3. history.jsonl holds every history entry of the objects in scope, each with the SHA-256 of its fields',
    '   and of the entry before it (a per-object chain); chain-heads.jsonl holds each object\'s newest hash.',
    '   `sseguard evidence verify <dir>` checks all three and prints one line per problem.',
    '',
  ].join('\n');
}

/** Every problem found in the pack at `dir`, one line each (empty: the pack holds). */
export async function verifyPack(dir: string, options: { kms?: KMSClient } = {}): Promise<string[]> {
  const problems: string[] = [];
  let manifestText: Buffer;
  let manifest: Manifest;
  try {
    manifestText = await readFile(join(dir, MANIFEST));
    manifest = JSON.parse(manifestText.toString('utf8')) as Manifest;
    if (!Array.isArray(manifest.files)) throw new Error('no file list');
  } catch (error) {
    return [`${MANIFEST}: cannot be read (${(error as Error).message})`];
  }
  const listed = new Set(manifest.files.map((f) => f.name));
  for (const file of manifest.files) {
    let data: Buffer;
    try {
      data = await readFile(join(dir, file.name));
    } catch {
      problems.push(`${file.name}: listed in the manifest but missing`);
      continue;
    }
    if (sha256(data) !== file.sha256) problems.push(`${file.name}: SHA-256 does not match the manifest (the file was changed)`);
  }
  for (const name of await readdir(dir)) {
    if (name !== MANIFEST && name !== SIGNATURE && !listed.has(name)) problems.push(`${name}: not listed in the manifest`);
  }

  if (!manifest.signing) problems.push(`${MANIFEST}: not signed (the pack was made without a signing key)`);
  else {
    let signature: Buffer | undefined;
    try {
      signature = await readFile(join(dir, SIGNATURE));
    } catch {
      problems.push(`${SIGNATURE}: missing`);
    }
    if (signature) {
      try {
        const publicKey = await readFile(join(dir, PUBLIC_KEY), 'utf8');
        if (!verifySignature('sha256', manifestText, publicKey, signature)) problems.push(`${SIGNATURE}: the signature does not verify ${MANIFEST} with ${PUBLIC_KEY}`);
      } catch (error) {
        problems.push(`${SIGNATURE}: cannot be checked with ${PUBLIC_KEY} (${(error as Error).message})`);
      }
      if (options.kms) {
        const kms = options.kms;
        try {
          const answer = await kmsCall('Verify', () =>
            kms.send(new VerifyCommand({ KeyId: manifest.signing!.keyId, ...kmsMessage(manifestText), Signature: signature, SigningAlgorithm: SIGNING_ALGORITHM })),
          );
          if (!answer.SignatureValid) problems.push(`${SIGNATURE}: KMS Verify with ${manifest.signing.keyId} says the signature is not valid`);
        } catch (error) {
          // KMS answers an invalid signature with KMSInvalidSignatureException.
          if ((error as Error).name === 'KMSInvalidSignatureException') problems.push(`${SIGNATURE}: KMS Verify with ${manifest.signing.keyId} says the signature is not valid`);
          else problems.push(`${SIGNATURE}: KMS Verify could not be asked (${(error as Error).name}: ${(error as Error).message})`);
        }
      }
    }
  }

  problems.push(...(await verifyChains(dir, listed)));
  return problems;
}

/**
 * The history chains the pack carries: each object's entries against its hashes and its head. The
 * pack writes an object's entries together, so history.jsonl is read one object at a time (memory:
 * the chain heads, one line per object).
 */
async function verifyChains(dir: string, listed: Set<string>): Promise<string[]> {
  if (!listed.has(HISTORY)) return [`${HISTORY}: missing from the pack`];
  const heads = new Map<string, string>();
  const problems: string[] = [];
  const lines = (file: string) => createInterface({ input: createReadStream(join(dir, file)), crlfDelay: Infinity });
  try {
    if (listed.has(HEADS)) {
      for await (const line of lines(HEADS)) {
        if (!line) continue;
        const { object, chainHead } = JSON.parse(line) as { object: string; chainHead: string };
        heads.set(object, chainHead);
      }
    }
    const checked = new Set<string>();
    let current: { object: string; entries: StoredHistoryEntry[] } | undefined;
    const check = ({ object, entries }: { object: string; entries: StoredHistoryEntry[] }) => {
      if (checked.has(object)) problems.push(`${HISTORY}: the entries of ${object} are not together (the file was reordered)`);
      checked.add(object);
      for (const problem of checkChain(object, entries, heads.get(object)).problems) problems.push(`${HISTORY}: ${problem}`);
    };
    for await (const line of lines(HISTORY)) {
      if (!line) continue;
      const { object, ...entry } = JSON.parse(line) as StoredHistoryEntry & { object: string };
      if (current && current.object !== object) {
        check(current);
        current = undefined;
      }
      current ??= { object, entries: [] };
      current.entries.push(entry);
    }
    if (current) check(current);
    for (const object of heads.keys()) if (!checked.has(object)) check({ object, entries: [] });
  } catch (error) {
    return [`${HISTORY}: cannot be read (${(error as Error).message})`];
  }
  return problems;
}
