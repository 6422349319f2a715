// The routes.yaml that import writes, as plain data with the comments that name each entry's source.
// ./build.ts fills it, ./write.ts prints it, ./convert.ts removes what the loader refuses.
import type { JsonObject, ProviderName, SecretRef } from '../model.js';
import type { DocSchedule } from './cronjob.js';
import type { Origin, TemplateParamSpec } from './tekton.js';

export interface DocTemplate {
  readonly params: readonly TemplateParamSpec[];
  readonly resourcetemplates: readonly JsonObject[];
}

export type DocBindingEntry = { readonly ref: string } | { readonly name: string; readonly value: string };

export interface DocTrigger {
  readonly name: string;
  readonly events: readonly string[] | undefined;
  readonly filter: readonly string[];
  readonly overlays: readonly { readonly key: string; readonly expression: string }[];
  readonly bindings: readonly DocBindingEntry[];
  /** A key of `templates`, or an inline template. */
  readonly template: string | DocTemplate;
  readonly namespace: string | undefined;
  readonly serviceAccountName: string | undefined;
  /** Comment lines above the trigger. */
  readonly comment: readonly string[];
  /** For findings about the trigger: what it came from. */
  readonly subject: string;
  readonly origin: Origin;
}

export interface DocRoute {
  readonly path: string;
  readonly provider: ProviderName;
  readonly secretRef: SecretRef | undefined;
  /** The namespace Tekton read the secretRef's Secret from (the triggers'), for telling same names apart. */
  readonly secretNamespace?: string | undefined;
  readonly namespace: string | undefined;
  /** The listener's account: Tekton created the runs of triggers without their own account as it. */
  readonly serviceAccountName?: string | undefined;
  readonly events: readonly string[] | undefined;
  readonly triggers: DocTrigger[];
  readonly comment: readonly string[];
  readonly origin: Origin;
}

export type DocKind =
  string | { readonly apiVersion: string; readonly kind: string; readonly plural: string };

export interface DocBinding {
  readonly params: readonly { readonly name: string; readonly value: string }[];
  readonly comment: readonly string[];
  readonly origin: Origin;
}

export interface DocTemplateEntry {
  readonly spec: DocTemplate;
  readonly comment: readonly string[];
  readonly origin: Origin;
}

export interface RoutesDocument {
  /** Comment lines at the top of the file. */
  header: string[];
  /** `gateway.kinds`, when the templates create more than PipelineRuns and TaskRuns. */
  kinds: DocKind[] | undefined;
  readonly bindings: Map<string, DocBinding>;
  readonly templates: Map<string, DocTemplateEntry>;
  routes: DocRoute[];
  /** From CronJobs that curled a listener (./cronjob.ts). */
  schedules: DocSchedule[];
}
