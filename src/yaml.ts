// The only import of the YAML libraries. The `yaml` package's Document API keeps the position of every node,
// so a problem anywhere in routes.yaml can be reported at its line and column. js-yaml keeps none but parses
// a large file an order of magnitude faster (BENCHMARKS.md), so the loader accepts a valid file with it and
// turns to `yaml` only to place problems.
import jsYaml from 'js-yaml';

/**
 * Every document of a YAML text as plain values, with the YAML 1.2 core schema (as the `yaml` package's
 * default: no timestamps, no merge keys); duplicate keys throw.
 */
export function loadAllPlain(text: string): unknown[] {
  return jsYaml.loadAll(text, undefined, { schema: jsYaml.CORE_SCHEMA });
}
export {
  LineCounter,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  parse as parseYaml,
  parseAllDocuments,
  stringify as stringifyYaml,
} from 'yaml';
export type { Document, Node, Pair, Scalar, Tags } from 'yaml';
// For `import`, which writes routes.yaml with comments naming each entry's source object.
export { Document as YamlDocument } from 'yaml';
export type { ToStringOptions, YAMLMap, YAMLSeq } from 'yaml';
