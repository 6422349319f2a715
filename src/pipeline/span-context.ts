// The span-context annotation Tekton Pipelines reads to continue a trace (contract §15): Tekton (v0.44+,
// tracing on) parses `tekton.dev/pipelinerunSpanContext` / `tekton.dev/taskrunSpanContext` as a JSON map
// carrier and makes its reconcile spans children of the span it names
// (tektoncd/pipeline pkg/reconciler/pipelinerun/tracing.go, initTracing).
import type { JsonObject } from '../model.js';

const ANNOTATION_BY_KIND: Readonly<Record<string, string>> = {
  PipelineRun: 'tekton.dev/pipelinerunSpanContext',
  TaskRun: 'tekton.dev/taskrunSpanContext',
};

/**
 * The object with its kind's span-context annotation naming `traceparent`; other kinds, and an object whose
 * template already sets the annotation (its own value is kept, contract §12.0 item 16), come back unchanged.
 */
export function withSpanContext(object: JsonObject, traceparent: string): JsonObject {
  const kind = object['kind'];
  const apiVersion = object['apiVersion'];
  if (typeof kind !== 'string' || typeof apiVersion !== 'string' || !apiVersion.startsWith('tekton.dev/')) {
    return object;
  }
  const key = ANNOTATION_BY_KIND[kind];
  if (key === undefined) return object;
  const metadata = isObject(object['metadata']) ? object['metadata'] : {};
  const annotations = isObject(metadata['annotations']) ? metadata['annotations'] : {};
  if (Object.hasOwn(annotations, key)) return object;
  return {
    ...object,
    metadata: { ...metadata, annotations: { ...annotations, [key]: JSON.stringify({ traceparent }) } },
  };
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
