// The OpenAPI 3.1 document, derived from the route table and the same zod schemas that validate
// requests, so that the description cannot drift from what the API accepts.
import { z } from 'zod';
import type { Route } from './router.ts';
import { errorSchema } from './schemas.ts';

type JsonSchema = Record<string, unknown>;
const schemaOf = (schema: z.ZodType, io: 'input' | 'output'): JsonSchema => {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
};

function queryParameters(route: Route) {
  const schema = schemaOf(route.parameters, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(schema.properties ?? {}).map(([name, property]) => {
    const { description, ...rest } = property;
    return { name, in: 'query', required: (schema.required ?? []).includes(name) && !('default' in property), ...(description ? { description } : {}), schema: rest };
  });
}

const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });

export function openApiDocument(routes: Route[]) {
  const paths: Record<string, unknown> = {};
  for (const route of routes) {
    const parameters = [
      ...(route.path.includes('{bucket}')
        ? [
            { name: 'bucket', in: 'path', required: true, schema: { type: 'string' } },
            { name: 'key', in: 'path', required: true, description: 'the object key, percent-encoded (may contain /)', schema: { type: 'string' } },
          ]
        : []),
      ...queryParameters(route),
    ];
    const contentType = route.contentType ?? 'application/json';
    paths[route.path] = {
      get: {
        summary: route.summary,
        ...(route.authenticated ? {} : { security: [] }),
        ...(parameters.length ? { parameters } : {}),
        responses: {
          200: { description: 'OK', content: { [contentType]: { schema: route.response ? schemaOf(route.response, 'output') : { type: contentType === 'application/json' ? 'object' : 'string' } } } },
          ...(parameters.length ? { 400: errorResponse('a parameter is not valid: the message says which and why') } : {}),
          ...(route.authenticated ? { 401: errorResponse('missing or wrong bearer token') } : {}),
          ...(route.match ? { 404: errorResponse('no finding recorded for this object') } : {}),
        },
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'sseguard report API',
      version: '1',
      description:
        'Findings of the S3 object encryption audit. Every route but / and /health needs `Authorization: Bearer <token>`. ' +
        'Lists are ordered by bucket then key; `nextCursor` continues a list and is only valid with the same filters and limit.',
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: { Error: schemaOf(errorSchema, 'output') },
    },
    security: [{ bearer: [] }],
    paths,
  };
}
