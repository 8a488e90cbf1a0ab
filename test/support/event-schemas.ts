// The JSON Schemas of sseguard's EventBridge event details (schemas/events/*.v1.json), compiled once:
// tests check every event they receive against the schema of its detail type.
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';

const DIR = fileURLToPath(new URL('../../schemas/events/', import.meta.url));

/** detail type → validator; returns the problems (empty when the detail is valid). */
export function eventSchemaValidator(): (detailType: string, detail: unknown) => string[] {
  const ajv = new Ajv2020({ allErrors: true, strict: true, strictTuples: false });
  ajv.addKeyword('x-detail-type');
  // Formats are checked by hand below: "date-time" only (ajv-formats is not a dependency).
  ajv.addFormat('date-time', { type: 'string', validate: (s: string) => !Number.isNaN(Date.parse(s)) && /^\d{4}-\d{2}-\d{2}T/.test(s) });
  const byType = new Map<string, ReturnType<typeof ajv.compile>>();
  for (const file of readdirSync(DIR).filter((f) => f.endsWith('.json'))) {
    const schema = JSON.parse(readFileSync(`${DIR}${file}`, 'utf8')) as { 'x-detail-type': string };
    byType.set(schema['x-detail-type'], ajv.compile(schema));
  }
  return (detailType, detail) => {
    const check = byType.get(detailType);
    if (!check) return [`no schema for detail type ${detailType}`];
    return check(detail) ? [] : (check.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`);
  };
}
