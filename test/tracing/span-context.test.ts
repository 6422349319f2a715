// withSpanContext: the annotation Tekton Pipelines reads to continue a trace (contract §15).
import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../../src/model.js';
import { withSpanContext } from '../../src/pipeline/span-context.js';

const TP = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const VALUE = JSON.stringify({ traceparent: TP });

describe('withSpanContext', () => {
  it.each([
    {
      name: 'a v1 PipelineRun',
      apiVersion: 'tekton.dev/v1',
      kind: 'PipelineRun',
      key: 'tekton.dev/pipelinerunSpanContext',
    },
    {
      name: 'a v1beta1 TaskRun',
      apiVersion: 'tekton.dev/v1beta1',
      kind: 'TaskRun',
      key: 'tekton.dev/taskrunSpanContext',
    },
  ])(
    'annotates $name, keeping its other annotations, without touching the input',
    ({ apiVersion, kind, key }) => {
      const object: JsonObject = {
        apiVersion,
        kind,
        metadata: { generateName: 'x-', annotations: { a: 'b' } },
      };
      const copy = structuredClone(object);
      expect(withSpanContext(object, TP)).toEqual({
        apiVersion,
        kind,
        metadata: { generateName: 'x-', annotations: { a: 'b', [key]: VALUE } },
      });
      expect(object).toEqual(copy);
    },
  );

  it('adds metadata and annotations when the template has none', () => {
    expect(withSpanContext({ apiVersion: 'tekton.dev/v1', kind: 'TaskRun' }, TP)).toEqual({
      apiVersion: 'tekton.dev/v1',
      kind: 'TaskRun',
      metadata: { annotations: { 'tekton.dev/taskrunSpanContext': VALUE } },
    });
  });

  it.each([
    { name: 'a CustomRun', object: { apiVersion: 'tekton.dev/v1beta1', kind: 'CustomRun', metadata: {} } },
    { name: 'a PipelineRun of another group', object: { apiVersion: 'example.com/v1', kind: 'PipelineRun' } },
    { name: 'a Job', object: { apiVersion: 'batch/v1', kind: 'Job' } },
    {
      name: "a template's own value",
      object: {
        apiVersion: 'tekton.dev/v1',
        kind: 'PipelineRun',
        metadata: { annotations: { 'tekton.dev/pipelinerunSpanContext': '{"traceparent":"00-own"}' } },
      },
    },
  ])('leaves $name unchanged', ({ object }) => {
    expect(withSpanContext(object as JsonObject, TP)).toBe(object);
  });
});
