// Load-time checks of a trigger's CEL that need to know what the expressions read (issue #14):
// - a filter that reads an extension only an overlay of the same trigger sets can never see it: filters run
//   before overlays (contract §5), so every delivery would fail or skip;
// - with a secrets directory (`validate --secrets-dir`, and `serve`), every secret a `compareSecret` call
//   names literally must exist, as secretRef files must: otherwise every delivery answers 422.
import { celSyntaxTree } from '../pipeline/cel.js';
import { compareSecretUses, extensionReads, overlaps } from '../pipeline/cel-reads.js';
import type { PathSegment } from './schema-dsl.js';

export interface Expression {
  readonly source: string;
  readonly at: readonly PathSegment[];
}

export interface TriggerProblem {
  readonly at: readonly PathSegment[];
  readonly message: string;
}

export function filtersReadingOverlays(
  filters: readonly Expression[],
  overlays: readonly { readonly key: string }[],
): TriggerProblem[] {
  if (overlays.length === 0) return [];
  const out: TriggerProblem[] = [];
  for (const filter of filters) {
    if (!filter.source.includes('extensions')) continue;
    const tree = celSyntaxTree(filter.source);
    if (tree === undefined) continue;
    for (const read of extensionReads(tree)) {
      const overlay = overlays.find((o) => overlaps(read, o.key));
      if (overlay === undefined) continue;
      out.push({
        at: filter.at,
        message: `reads extensions.${read}, which only this trigger's overlay "${overlay.key}" sets; filters run before overlays, so it is never set here: repeat the overlay's expression in the filter instead`,
      });
    }
  }
  return out;
}

export interface SecretFileCheck {
  readonly file: (secretName: string, secretKey: string) => string;
  readonly exists: (file: string) => boolean;
}

export function missingCompareSecrets(
  expressions: readonly Expression[],
  check: SecretFileCheck,
): TriggerProblem[] {
  const out: TriggerProblem[] = [];
  for (const e of expressions) {
    if (!e.source.includes('compareSecret')) continue;
    const tree = celSyntaxTree(e.source);
    if (tree === undefined) continue;
    for (const use of compareSecretUses(tree)) {
      if (use.kind !== 'literal') continue;
      const file = check.file(use.secretName, use.secretKey);
      if (check.exists(file)) continue;
      out.push({
        at: e.at,
        message: `compareSecret('${use.secretKey}', '${use.secretName}'): secret file ${file} does not exist (mount Secret ${use.secretName} with key ${use.secretKey})`,
      });
    }
  }
  return out;
}

/** The literal secrets an expression's compareSecret calls read, for reports (import) and the chart. */
export function compareSecretsOf(source: string): { secretName: string; secretKey: string }[] {
  if (!source.includes('compareSecret')) return [];
  const tree = celSyntaxTree(source);
  if (tree === undefined) return [];
  return compareSecretUses(tree).flatMap((u) =>
    u.kind === 'literal' ? [{ secretName: u.secretName, secretKey: u.secretKey }] : [],
  );
}
