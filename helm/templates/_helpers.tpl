{{/* Names and labels, the usual `helm create` idioms. */}}
{{- define "tekton-gateway.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "tekton-gateway.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
Cluster-scoped objects and the bindings placed in other namespaces carry the release namespace too, so two
releases with the same name in different namespaces do not overwrite each other's RBAC.
*/}}
{{- define "tekton-gateway.rbacName" -}}
{{- printf "%s-%s" (include "tekton-gateway.fullname" .) .Release.Namespace | trunc 253 | trimSuffix "-" -}}
{{- end -}}

{{- define "tekton-gateway.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "tekton-gateway.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tekton-gateway.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "tekton-gateway.labels" -}}
helm.sh/chart: {{ include "tekton-gateway.chart" . }}
{{ include "tekton-gateway.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "tekton-gateway.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "tekton-gateway.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "tekton-gateway.image" -}}
{{- $tag := .Values.image.tag | default .Chart.AppVersion -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}
{{- end -}}

{{- define "tekton-gateway.routesConfigMapName" -}}
{{- .Values.routesConfigMap.name | default (printf "%s-routes" (include "tekton-gateway.fullname" .)) -}}
{{- end -}}

{{- define "tekton-gateway.routesKey" -}}
{{- if .Values.routesConfigMap.name -}}{{ .Values.routesConfigMap.key }}{{- else -}}routes.yaml{{- end -}}
{{- end -}}

{{/* The routes.yaml text stored in the ConfigMap: the string as given, or the YAML mapping serialised. */}}
{{- define "tekton-gateway.routesText" -}}
{{- if kindIs "string" .Values.routes -}}
{{- .Values.routes -}}
{{- else -}}
{{- toYaml .Values.routes -}}
{{- end -}}
{{- end -}}

{{/*
What the routes need from the cluster, as JSON: {namespaces, impersonate ("ns/sa"), secrets, secretKeys}
(secretKeys: the keys inline routes read from each Secret, for NOTES.txt).

With inline routes the chart reads them (routes and schedules) and resolves each rendered object's namespace
the way the gateway does (template metadata.namespace, else trigger or schedule, route, gateway.namespace,
else "default"), so
RBAC and Secret mounts follow routes.yaml without being repeated in values. An object created as an
impersonated service account needs no right of the gateway's own in that namespace, only impersonate on
that account. The explicit lists in values are added; with a routesConfigMap they are all the chart knows.
*/}}
{{- define "tekton-gateway.plan" -}}
{{- $namespaces := list -}}
{{- $impersonate := list -}}
{{- $secrets := list -}}
{{- $secretKeys := dict -}}
{{- $routesKnown := false -}}
{{- if not .Values.routesConfigMap.name -}}
{{- $doc := required "set routes (e.g. --set-file routes=routes.yaml) or routesConfigMap.name" .Values.routes -}}
{{- if kindIs "string" $doc -}}
{{- $doc = fromYaml $doc -}}
{{- if hasKey $doc "Error" -}}
{{- fail (printf "routes is not valid YAML: %s" (get $doc "Error")) -}}
{{- end -}}
{{- end -}}
{{- include "tekton-gateway.checkRoutes" (dict "doc" $doc "root" .) -}}
{{- $routesKnown = true -}}
{{- $gatewayNamespace := dig "gateway" "namespace" "default" $doc -}}
{{- $templates := get $doc "templates" | default dict -}}
{{- range $route := get $doc "routes" | default list -}}
{{- $refs := $route.secretRef | default list -}}
{{- if kindIs "map" $refs -}}{{- $refs = list $refs -}}{{- end -}}
{{- range $ref := $refs -}}
{{- if $ref.secretName -}}
{{- $secrets = append $secrets $ref.secretName -}}
{{- $_ := set $secretKeys $ref.secretName (append (get $secretKeys $ref.secretName | default list) $ref.secretKey | uniq) -}}
{{- end -}}
{{- end -}}
{{- /* Status credentials of the route and its triggers are mounted like webhook secrets. */ -}}
{{- $statuses := list ($route.status | default dict) -}}
{{- range $t := $route.triggers | default list -}}{{- $statuses = append $statuses ($t.status | default dict) -}}{{- end -}}
{{- range $status := $statuses -}}
{{- if kindIs "map" $status -}}
{{- $statusRefs := list $status.tokenRef (dig "app" "privateKeyRef" nil $status) (dig "basicAuthRef" "usernameRef" nil $status) (dig "basicAuthRef" "passwordRef" nil $status) -}}
{{- range $ref := $statusRefs -}}
{{- if and $ref (kindIs "map" $ref) $ref.secretName -}}
{{- $secrets = append $secrets $ref.secretName -}}
{{- $_ := set $secretKeys $ref.secretName (append (get $secretKeys $ref.secretName | default list) $ref.secretKey | uniq) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- range $trigger := $route.triggers | default list -}}
{{- $namespace := $trigger.namespace | default $route.namespace | default $gatewayNamespace -}}
{{- $account := $trigger.serviceAccountName | default $route.serviceAccountName -}}
{{- $template := $trigger.template | default dict -}}
{{- if kindIs "string" $template -}}{{- $template = get $templates $template | default dict -}}{{- end -}}
{{- range $resource := $template.resourcetemplates | default list -}}
{{- $objectNamespace := dig "metadata" "namespace" $namespace $resource -}}
{{- if $account -}}
{{- $impersonate = append $impersonate (printf "%s/%s" $objectNamespace $account) -}}
{{- else -}}
{{- $namespaces = append $namespaces $objectNamespace -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- /* A schedule creates like a trigger of its own (its namespace, else gateway.namespace). */ -}}
{{- range $schedule := get $doc "schedules" | default list -}}
{{- $namespace := $schedule.namespace | default $gatewayNamespace -}}
{{- $template := $schedule.template | default dict -}}
{{- if kindIs "string" $template -}}{{- $template = get $templates $template | default dict -}}{{- end -}}
{{- range $resource := $template.resourcetemplates | default list -}}
{{- $objectNamespace := dig "metadata" "namespace" $namespace $resource -}}
{{- if $schedule.serviceAccountName -}}
{{- $impersonate = append $impersonate (printf "%s/%s" $objectNamespace $schedule.serviceAccountName) -}}
{{- else -}}
{{- $namespaces = append $namespaces $objectNamespace -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- range .Values.rbac.targetNamespaces -}}{{- $namespaces = append $namespaces . -}}{{- end -}}
{{- range .Values.rbac.impersonate -}}
{{- $impersonate = append $impersonate (printf "%s/%s" .namespace .name) -}}
{{- end -}}
{{- if and (not $namespaces) (not $routesKnown) -}}
{{- $namespaces = list .Release.Namespace -}}
{{- end -}}
{{- range .Values.secrets -}}{{- $secrets = append $secrets . -}}{{- end -}}
{{- range $name, $_ := .Values.createSecrets -}}{{- $secrets = append $secrets $name -}}{{- end -}}
{{- dict "namespaces" ($namespaces | uniq | sortAlpha) "impersonate" ($impersonate | uniq | sortAlpha) "secrets" ($secrets | uniq | sortAlpha) "secretKeys" $secretKeys | toJson -}}
{{- end -}}

{{/* A volume name for a Secret: a DNS label, so names with dots or too long get a hash instead. */}}
{{- define "tekton-gateway.secretVolumeName" -}}
{{- $name := printf "secret-%s" . -}}
{{- if or (contains "." .) (gt (len $name) 63) -}}
{{- printf "secret-%s" (sha256sum . | trunc 16) -}}
{{- else -}}
{{- $name -}}
{{- end -}}
{{- end -}}

{{/* The container memory limit in MiB, or empty without one. Quantities are integers (the schema says so). */}}
{{- define "tekton-gateway.memoryLimitMiB" -}}
{{- $m := dig "limits" "memory" "" (.Values.resources | default dict) -}}
{{- if kindIs "float64" $m -}}
{{- div (int64 $m) 1048576 -}}
{{- else if hasSuffix "Ki" $m -}}
{{- div (trimSuffix "Ki" $m | int64) 1024 -}}
{{- else if hasSuffix "Mi" $m -}}
{{- trimSuffix "Mi" $m | int64 -}}
{{- else if hasSuffix "Gi" $m -}}
{{- mul (trimSuffix "Gi" $m | int64) 1024 -}}
{{- else if hasSuffix "Ti" $m -}}
{{- mul (trimSuffix "Ti" $m | int64) 1048576 -}}
{{- else if hasSuffix "k" $m -}}
{{- div (mul (trimSuffix "k" $m | int64) 1000) 1048576 -}}
{{- else if hasSuffix "M" $m -}}
{{- div (mul (trimSuffix "M" $m | int64) 1000000) 1048576 -}}
{{- else if hasSuffix "G" $m -}}
{{- div (mul (trimSuffix "G" $m | int64) 1000000000) 1048576 -}}
{{- else if hasSuffix "T" $m -}}
{{- div (mul (trimSuffix "T" $m | int64) 1000000000000) 1048576 -}}
{{- else if $m -}}
{{- div ($m | int64) 1048576 -}}
{{- end -}}
{{- end -}}

{{/*
Shutdown timing as JSON {preStopSleep, drainDelay, shutdownTimeout, grace}; the README explains the sum.
Kubernetes runs preStop, then sends SIGTERM, and kills the pod when terminationGracePeriodSeconds (counted
from the start) runs out. The gateway, after SIGTERM, drains for drainDelay and exits by shutdownTimeout.
*/}}
{{- define "tekton-gateway.shutdown" -}}
{{- $g := .Values.gateway -}}
{{- $preStop := int $g.preStopSleepSeconds -}}
{{- $drain := int $g.drainDelaySeconds -}}
{{- $shutdown := int $g.shutdownTimeoutSeconds -}}
{{- if and (gt $preStop 0) (semverCompare "<1.30-0" .Capabilities.KubeVersion.Version) -}}
{{- /* No sleep hook before 1.30 and no shell in the image: the gateway waits that long itself. */ -}}
{{- $drain = add $drain $preStop -}}
{{- $preStop = 0 -}}
{{- end -}}
{{- if le $shutdown $drain -}}
{{- fail (printf "gateway.shutdownTimeoutSeconds (%d) must be longer than the drain delay (%d s), or the gateway exits 1 before it finishes draining" $shutdown $drain) -}}
{{- end -}}
{{- $needed := add $preStop $shutdown -}}
{{- $grace := add $needed 5 -}}
{{- if .Values.terminationGracePeriodSeconds -}}
{{- $grace = int .Values.terminationGracePeriodSeconds -}}
{{- if lt $grace $needed -}}
{{- fail (printf "terminationGracePeriodSeconds (%d) must be at least preStop sleep + gateway.shutdownTimeoutSeconds (%d s), or Kubernetes kills the gateway while it drains" $grace $needed) -}}
{{- end -}}
{{- end -}}
{{- dict "preStopSleep" $preStop "drainDelay" $drain "shutdownTimeout" $shutdown "grace" $grace | toJson -}}
{{- end -}}

{{/* The Secret holding the admin token of the deliveries page: the user's, or the one the chart generates. */}}
{{- define "tekton-gateway.adminTokenSecret" -}}
{{- .Values.adminToken.existingSecret | default (printf "%s-admin-token" (include "tekton-gateway.fullname" .)) -}}
{{- end }}
