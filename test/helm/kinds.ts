// Validates rendered objects against the Kubernetes OpenAPI schemas (kubernetes-models), by apiVersion and
// kind. A kind the chart starts rendering without an entry here fails the tests instead of passing unchecked.

import { Ajv } from 'ajv';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import type { K8sObject } from './render.js';

interface Validatable {
  validate(): void;
}

// The models' constructors take their own typed data; the rendered objects are checked, not trusted.
type ModelConstructor = new (data: never) => Validatable;

const MODELS: Readonly<Record<string, ModelConstructor>> = {
  'v1/ConfigMap': ConfigMap,
  'v1/Secret': Secret,
  'v1/Service': Service,
  'v1/ServiceAccount': ServiceAccount,
  'apps/v1/Deployment': Deployment,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'networking.k8s.io/v1/Ingress': Ingress,
  'networking.k8s.io/v1/NetworkPolicy': NetworkPolicy,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'rbac.authorization.k8s.io/v1/ClusterRole': ClusterRole,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': ClusterRoleBinding,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
};

export const CLUSTER_SCOPED = new Set(['ClusterRole', 'ClusterRoleBinding']);

// kubernetes-models 4.5.1 has no Prometheus Operator types (@kubernetes-models/prometheus-operator is not a
// dependency), so the ServiceMonitor gets a hand-written subset of its CRD schema: the fields we render,
// with unknown keys refused where a typo would silently stop scraping.
const SERVICE_MONITOR_SCHEMA = {
  type: 'object',
  required: ['apiVersion', 'kind', 'metadata', 'spec'],
  properties: {
    metadata: { type: 'object', required: ['name'] },
    spec: {
      type: 'object',
      additionalProperties: false,
      required: ['selector', 'endpoints'],
      properties: {
        jobLabel: { type: 'string' },
        targetLabels: { type: 'array', items: { type: 'string' } },
        podTargetLabels: { type: 'array', items: { type: 'string' } },
        sampleLimit: { type: 'integer' },
        selector: {
          type: 'object',
          additionalProperties: false,
          properties: {
            matchLabels: { type: 'object', additionalProperties: { type: 'string' } },
            matchExpressions: { type: 'array' },
          },
        },
        namespaceSelector: {
          type: 'object',
          additionalProperties: false,
          properties: { any: { type: 'boolean' }, matchNames: { type: 'array', items: { type: 'string' } } },
        },
        endpoints: {
          type: 'array',
          minItems: 1,
          items: {
            type: 'object',
            additionalProperties: false,
            properties: {
              port: { type: 'string' },
              targetPort: { type: ['string', 'integer'] },
              path: { type: 'string' },
              scheme: { enum: ['http', 'https'] },
              interval: {
                type: 'string',
                pattern:
                  '^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$',
              },
              scrapeTimeout: {
                type: 'string',
                pattern:
                  '^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$',
              },
              honorLabels: { type: 'boolean' },
              relabelings: { type: 'array' },
              metricRelabelings: { type: 'array' },
            },
          },
        },
      },
    },
  },
};

const validateServiceMonitor = new Ajv({ allErrors: true, strict: false }).compile(SERVICE_MONITOR_SCHEMA);

/** Throws with the object's kind and name when it does not match its schema or its kind is unknown. */
export function validateObject(obj: K8sObject): void {
  const id = `${obj.kind}/${obj.metadata?.name ?? '?'}`;
  const key = `${obj.apiVersion}/${obj.kind}`;
  if (key === 'monitoring.coreos.com/v1/ServiceMonitor') {
    if (!validateServiceMonitor(obj)) {
      throw new Error(`${id}: ${JSON.stringify(validateServiceMonitor.errors)}`);
    }
    return;
  }
  const Model = MODELS[key];
  if (!Model) throw new Error(`${id}: no schema for ${key}; add it to test/helm/kinds.ts`);
  try {
    new Model(obj as never).validate();
  } catch (error) {
    throw new Error(`${id} does not match the ${key} schema: ${(error as Error).message}`, { cause: error });
  }
}
