#!/usr/bin/env node
// `npm run schema`: regenerates routes.schema.json from src/config/schema.ts (via the build).
import { writeFileSync } from 'node:fs';
import { routesJsonSchemaText } from '../dist/config/json-schema.js';

writeFileSync(new URL('../routes.schema.json', import.meta.url), routesJsonSchemaText());
console.log('wrote routes.schema.json');
