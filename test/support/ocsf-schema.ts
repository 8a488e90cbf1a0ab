// Validates OCSF events against the published OCSF schema, pinned by version: the schema export that
// the PyPI package pydantic-ocsf==3.0.0 ships (ocsf/schemas/v1_3_0.json, installed into .venv by
// scripts/ensure-deps.mjs from emulator/requirements.txt). Classes and objects are resolved through
// their `extends` chains; every required attribute must be present, no attribute may be unknown,
// enum values must be in the enum, and objects and arrays of objects are checked the same way down.
// Gap: this export leaves the class includes ($include: classification, occurrence) unresolved, so
// the attributes they add (class_uid, category_uid, type_uid, time, cloud) are checked for type and
// enum from the dictionary, not for presence; the test asserts those on the event itself.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface Attribute { requirement?: string; enum?: Record<string, unknown>; type?: string; is_array?: boolean }
interface Definition { extends?: string; attributes: Record<string, Attribute | string[]>; uid?: number }
interface SchemaExport {
  version: string;
  events: Record<string, Definition>;
  objects: Record<string, Definition>;
  dictionary: { attributes: Record<string, Attribute> };
}

const SCHEMA_DIR = fileURLToPath(new URL('../../.venv/lib/python3.11/site-packages/ocsf/schemas/', import.meta.url));

export function ocsfValidator(version: string): { version: string; validate(className: string, event: unknown): string[] } {
  const schema = JSON.parse(readFileSync(`${SCHEMA_DIR}v${version.replaceAll('.', '_')}.json`, 'utf8')) as SchemaExport;
  const merged = (table: Record<string, Definition>, name: string): Record<string, Attribute> => {
    const definition = table[name];
    if (!definition) throw new Error(`OCSF ${version} has no ${name}`);
    const parent = definition.extends && table[definition.extends] ? merged(table, definition.extends) : {};
    const own = Object.fromEntries(Object.entries(definition.attributes).filter(([key]) => key !== '$include')) as Record<string, Attribute>;
    return { ...parent, ...Object.fromEntries(Object.entries(own).map(([key, value]) => [key, { ...parent[key], ...value }])) };
  };
  const check = (attributes: Record<string, Attribute>, value: unknown, path: string, includes = false): string[] => {
    if (!value || typeof value !== 'object' || Array.isArray(value)) return [`${path}: not an object`];
    const record = value as Record<string, unknown>;
    const problems: string[] = [];
    for (const [name, attribute] of Object.entries(attributes)) {
      if (attribute.requirement === 'required' && record[name] === undefined) problems.push(`${path}.${name}: required`);
    }
    for (const [name, v] of Object.entries(record)) {
      // Attributes a class takes from its includes and profiles (classification, occurrence, cloud) are
      // not listed in this export's class definitions: they are accepted when the dictionary has them.
      const attribute = attributes[name] ?? (includes && schema.dictionary.attributes[name] ? {} : undefined);
      if (!attribute) {
        problems.push(`${path}.${name}: not an attribute of this class or object in OCSF ${version}`);
        continue;
      }
      const dictionary = schema.dictionary.attributes[name] ?? {};
      const enumValues = attribute.enum ?? dictionary.enum;
      if (enumValues && !(String(v) in enumValues)) problems.push(`${path}.${name}: ${String(v)} is not in its enum`);
      const type = dictionary.type;
      const values = dictionary.is_array ? (Array.isArray(v) ? v : (problems.push(`${path}.${name}: not an array`), [])) : [v];
      if (type && schema.objects[type]) {
        values.forEach((item, i) => problems.push(...check(merged(schema.objects, type), item, `${path}.${name}${dictionary.is_array ? `[${i}]` : ''}`)));
      } else if (type === 'integer_t' || type === 'long_t' || type === 'timestamp_t') {
        for (const item of values) if (!Number.isInteger(item)) problems.push(`${path}.${name}: not an integer`);
      } else if (type === 'string_t') {
        for (const item of values) if (typeof item !== 'string') problems.push(`${path}.${name}: not a string`);
      }
    }
    return problems;
  };
  return {
    version: schema.version,
    validate: (className, event) => {
      const problems = check(merged(schema.events, className), event, className, true);
      const uid = schema.events[className]?.uid;
      const classUid = (event as { class_uid?: number }).class_uid;
      if (uid !== undefined && classUid !== 2000 + uid) problems.push(`${className}.class_uid: ${classUid} is not ${2000 + uid}`);
      return problems;
    },
  };
}
