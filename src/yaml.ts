// The only import of the `yaml` package. We use it rather than js-yaml because its Document API keeps the
// position of every node, so a problem anywhere in routes.yaml can be reported at its line and column.
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
