// routes.schema.json, generated from the loader's own schema so editors and the loader agree.
import { toJsonSchema, type JsonSchema } from './schema-dsl.js';
import { ROUTES_SCHEMA, ROUTES_SCHEMA_ID } from './schema.js';

export function routesJsonSchema(): JsonSchema {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: ROUTES_SCHEMA_ID,
    title: 'tekton-gateway routes.yaml',
    ...toJsonSchema(ROUTES_SCHEMA),
  };
}

export function routesJsonSchemaText(): string {
  return `${JSON.stringify(routesJsonSchema(), null, 2)}\n`;
}
