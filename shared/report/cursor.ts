// Pagination cursors: opaque to clients, bound to the exact query they continue, and tamper-proof.
// A cursor is base64url(JSON payload) "." base64url(HMAC-SHA256(secret, payload)). The payload
// holds a digest of the canonical query (route, filters, limit) and the position after which the
// next page starts; replayed with other filters, or edited, it is refused.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Position } from '../findings/findings-query.ts';

export class CursorError extends Error {
  override name = 'CursorError';
}

type QueryValue = string | number | undefined;

/** Same query, same string: keys sorted, absent values dropped. */
export function canonicalQuery(query: Record<string, QueryValue>): string {
  const entries = Object.entries(query)
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify(entries);
}

const digest = (text: string) => createHash('sha256').update(text).digest('base64url').slice(0, 22);

export class CursorCodec {
  constructor(private readonly secret: Buffer) {}

  private sign(payload: string): Buffer {
    return createHmac('sha256', this.secret).update(payload).digest();
  }

  encode(query: Record<string, QueryValue>, position: Position): string {
    const payload = Buffer.from(JSON.stringify({ v: 1, q: digest(canonicalQuery(query)), b: position.bucket, k: position.key })).toString('base64url');
    return `${payload}.${this.sign(payload).toString('base64url')}`;
  }

  decode(query: Record<string, QueryValue>, cursor: string): Position {
    const [payload, mac, ...rest] = cursor.split('.');
    if (!payload || !mac || rest.length > 0) throw new CursorError('cursor is malformed: pass back the nextCursor of the previous page unchanged');
    const given = Buffer.from(mac, 'base64url');
    const expected = this.sign(payload);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new CursorError('cursor is not valid: it was altered, or issued by another deployment');
    }
    const decoded = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { v: number; q: string; b: string; k: string };
    if (decoded.q !== digest(canonicalQuery(query))) {
      throw new CursorError('cursor belongs to another query: repeat the same filters and limit as the request that returned it');
    }
    return { bucket: decoded.b, key: decoded.k };
  }
}
