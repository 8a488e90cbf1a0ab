// The report API's own configuration, from the environment, validated once at start with a
// one-line error per problem. Separate from shared/config.ts: only the API reads these.
//
//   SSEGUARD_API_TOKEN      bearer token every route but /health and / requires (≥ 32 characters)
//   SSEGUARD_CURSOR_SECRET  key of the HMAC that signs pagination cursors (≥ 32 characters);
//                           when unset it is derived from SSEGUARD_API_TOKEN
//   SSEGUARD_CORS_ORIGINS   comma-separated origins allowed to call the API from a browser, or *
//   SSEGUARD_ACCOUNT_ID     AWS account id written into Security Hub (ASFF) findings
import { createHmac, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { ConfigError } from '../config.ts';

export interface ReportApiConfig {
  /** undefined only when authentication was switched off explicitly (`sseguard serve --no-auth`). */
  token?: string;
  cursorSecret: Buffer;
  /** '*' or exact origins; empty: no CORS headers (the dashboard is same-origin). */
  corsOrigins: string[];
  accountId?: string;
}

const MIN_SECRET = 32;

const environment = z.object({
  SSEGUARD_API_TOKEN: z
    .string()
    .min(MIN_SECRET, `SSEGUARD_API_TOKEN is too short: use at least ${MIN_SECRET} random characters (for example: openssl rand -hex 32)`)
    .optional(),
  SSEGUARD_CURSOR_SECRET: z
    .string()
    .min(MIN_SECRET, `SSEGUARD_CURSOR_SECRET is too short: use at least ${MIN_SECRET} random characters`)
    .optional(),
  SSEGUARD_CORS_ORIGINS: z
    .string()
    .transform((value) => value.split(',').map((origin) => origin.trim()).filter(Boolean))
    .pipe(
      z.array(
        z.string().regex(/^(\*|https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?)$/, {
          error: 'SSEGUARD_CORS_ORIGINS: expected * or origins like https://dash.example.com (scheme and host, no path)',
        }),
      ),
    )
    .optional(),
  SSEGUARD_ACCOUNT_ID: z.string().regex(/^\d{12}$/, 'SSEGUARD_ACCOUNT_ID is not a 12-digit AWS account id').optional(),
});

export interface LoadOptions {
  /** Allow starting without SSEGUARD_API_TOKEN (local `serve --no-auth` only). */
  allowNoAuth?: boolean;
}

export function loadReportApiConfig(env: NodeJS.ProcessEnv = process.env, options: LoadOptions = {}): ReportApiConfig {
  const blank = (value: string | undefined) => (value === '' ? undefined : value);
  const parsed = environment.safeParse({
    SSEGUARD_API_TOKEN: blank(env.SSEGUARD_API_TOKEN),
    SSEGUARD_CURSOR_SECRET: blank(env.SSEGUARD_CURSOR_SECRET),
    SSEGUARD_CORS_ORIGINS: blank(env.SSEGUARD_CORS_ORIGINS),
    SSEGUARD_ACCOUNT_ID: blank(env.SSEGUARD_ACCOUNT_ID),
  });
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((issue) => issue.message).join('; '));
  const { SSEGUARD_API_TOKEN: token, SSEGUARD_CURSOR_SECRET, SSEGUARD_CORS_ORIGINS, SSEGUARD_ACCOUNT_ID } = parsed.data;
  if (!token && !options.allowNoAuth) {
    throw new ConfigError('SSEGUARD_API_TOKEN is not set: the report API refuses to run without authentication (for example: export SSEGUARD_API_TOKEN=$(openssl rand -hex 32))');
  }
  // Derived, not the token itself: a cursor never carries anything that could reveal the token,
  // and rotating the token invalidates outstanding cursors. Without either (only under --no-auth)
  // cursors are signed with a per-process key and stop working when the process restarts.
  const cursorSecret = SSEGUARD_CURSOR_SECRET
    ? Buffer.from(SSEGUARD_CURSOR_SECRET)
    : token
      ? createHmac('sha256', token).update('sseguard cursor key v1').digest()
      : randomBytes(32);
  return {
    ...(token ? { token } : {}),
    cursorSecret,
    corsOrigins: SSEGUARD_CORS_ORIGINS ?? [],
    ...(SSEGUARD_ACCOUNT_ID ? { accountId: SSEGUARD_ACCOUNT_ID } : {}),
  };
}
