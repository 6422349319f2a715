// tekton.dev kinds and their REST plurals. An explicit table rather than API discovery: the gateway then
// needs no discovery round-trip or RBAC for it, and a typo in gateway.kinds fails at load, not at the first
// webhook. Kinds outside tekton.dev are written {apiVersion, kind, plural} in routes.yaml.
export const TEKTON_KINDS: Readonly<Record<string, string>> = {
  PipelineRun: 'pipelineruns',
  TaskRun: 'taskruns',
  CustomRun: 'customruns',
  Run: 'runs',
  Pipeline: 'pipelines',
  Task: 'tasks',
  StepAction: 'stepactions',
};
