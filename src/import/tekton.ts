// The Tekton Triggers objects `import` reads, normalised: v1alpha1 and v1beta1 spellings (and the
// deprecated `github:`/`cel:` interceptor forms) arrive here as one shape, so the mapping code never asks
// which version it is looking at. Field meanings follow tektoncd/triggers v0.37 (docs/ and pkg/apis/triggers).
import type { JsonObject } from '../model.js';
import type { CronJobObject } from './cronjob.js';

/** Where an object came from: for comments in the output and for the report. */
export interface Origin {
  readonly kind: string;
  readonly namespace: string | undefined;
  readonly name: string;
  readonly file: string;
  /** 1-based line of the object in its file. */
  readonly line: number;
}

/** `EventListener flask-app/flask-app-dev`: how comments and the report name an object. */
export function describeOrigin(origin: Pick<Origin, 'kind' | 'namespace' | 'name'>): string {
  return `${origin.kind} ${origin.namespace === undefined ? '' : `${origin.namespace}/`}${origin.name}`;
}

export function originLocation(origin: Origin): string {
  return `${origin.file}:${origin.line}`;
}

export interface InterceptorParam {
  readonly name: string;
  readonly value: unknown;
}

export type CoreInterceptorName = 'cel' | 'github' | 'gitlab' | 'bitbucket' | 'slack';

export type InterceptorSpec =
  /** One of Tekton's core interceptors, by `ref` or by the deprecated `github:`/`cel:`… keys. */
  | {
      readonly type: 'core';
      readonly name: CoreInterceptorName;
      readonly label: string;
      /** In order; a name may repeat (Tekton keeps the last, import reads them all). */
      readonly params: readonly InterceptorParam[];
    }
  /** The legacy `webhook:` interceptor: a Service or URL that may rewrite the body. */
  | { readonly type: 'webhook'; readonly label: string; readonly target: string }
  /** A ClusterInterceptor or NamespacedInterceptor that is not a core one. */
  | { readonly type: 'custom'; readonly label: string; readonly refName: string; readonly refKind: string };

export type BindingEntry =
  | { readonly type: 'ref'; readonly ref: string; readonly kind: 'TriggerBinding' | 'ClusterTriggerBinding' }
  | { readonly type: 'param'; readonly name: string; readonly value: string }
  | { readonly type: 'invalid'; readonly reason: string };

export interface TemplateParamSpec {
  readonly name: string;
  readonly description?: string;
  readonly default?: string;
}

export interface TemplateSpec {
  readonly params: readonly TemplateParamSpec[];
  readonly resourcetemplates: readonly JsonObject[];
}

export type TemplateRef =
  | { readonly type: 'ref'; readonly ref: string }
  | { readonly type: 'inline'; readonly spec: TemplateSpec }
  | { readonly type: 'missing' };

export interface TriggerSpec {
  /** The inline trigger's `name`; a Trigger object is named by its metadata instead. */
  readonly name: string | undefined;
  readonly interceptors: readonly InterceptorSpec[];
  readonly bindings: readonly BindingEntry[];
  readonly template: TemplateRef;
  readonly serviceAccountName: string | undefined;
}

export interface TriggerObject {
  readonly origin: Origin;
  readonly labels: Readonly<Record<string, string>>;
  readonly spec: TriggerSpec;
}

/** `line`: where the entry starts, so reports point at it rather than at the listener. */
export type ListenerEntry =
  | { readonly type: 'ref'; readonly triggerRef: string; readonly line: number }
  | { readonly type: 'inline'; readonly spec: TriggerSpec; readonly line: number };

export interface LabelSelector {
  readonly matchLabels: Readonly<Record<string, string>>;
  readonly matchExpressions: readonly {
    readonly key: string;
    readonly operator: string;
    readonly values: readonly string[];
  }[];
}

/** Which Triggers a listener or a trigger group picks up besides its inline ones. */
export interface TriggerSelection {
  readonly labelSelector: LabelSelector | undefined;
  /** `namespaceSelector.matchNames`; `['*']` means every namespace. */
  readonly matchNames: readonly string[];
}

export interface TriggerGroup {
  readonly name: string;
  readonly interceptors: readonly InterceptorSpec[];
  readonly selection: TriggerSelection;
}

export interface Listener {
  readonly origin: Origin;
  /** `spec.serviceAccountName`, else the one in its pod template (`resources.kubernetesResource`). */
  readonly serviceAccountName: string | undefined;
  /** True when the account was only in the pod template. */
  readonly serviceAccountInPodTemplate?: boolean;
  /** The Secret its TLS_CERT/TLS_KEY env came from, when the listener served HTTPS itself. */
  readonly tlsSecret?: string | undefined;
  readonly triggers: readonly ListenerEntry[];
  readonly groups: readonly TriggerGroup[];
  readonly selection: TriggerSelection;
  readonly cloudEventURI: string | undefined;
  /** `spec.resources` (kubernetesResource/customResource): how the listener's own pod ran. */
  readonly hasResources: boolean;
  /** False with the annotation `tekton.dev/payload-validation: "false"`. */
  readonly payloadValidation: boolean;
}

export interface BindingObject {
  /** `origin.kind` is TriggerBinding or ClusterTriggerBinding. */
  readonly origin: Origin;
  readonly params: readonly { readonly name: string; readonly value: string }[];
}

export interface TemplateObject {
  readonly origin: Origin;
  readonly spec: TemplateSpec;
}

/** One Ingress path (or default backend) that sends traffic to a Service. */
export interface IngressPath {
  readonly origin: Origin;
  readonly host: string | undefined;
  readonly path: string;
  readonly pathType: string | undefined;
  readonly service: string;
}

/** An object import does not convert (CronJob, Deployment…), kept for finding callers of `el-<listener>`. */
export interface OtherObject {
  readonly origin: Origin;
  /** Every string in the object that mentions `el-`. */
  readonly texts: readonly string[];
}

export interface TektonObjects {
  /** Objects that are not Triggers objects or Ingresses (absent when none were read). */
  readonly others?: readonly OtherObject[];
  readonly listeners: readonly Listener[];
  readonly triggers: readonly TriggerObject[];
  readonly bindings: readonly BindingObject[];
  readonly templates: readonly TemplateObject[];
  readonly ingressPaths: readonly IngressPath[];
  /** CronJobs (batch/*) that may curl a listener: candidates for schedules (./cronjob.ts). */
  readonly cronJobs: readonly CronJobObject[];
}
