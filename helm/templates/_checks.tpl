{{/*
What the chart refuses to render because the release could not serve it. RBAC and Secret mounts are
derived from the inline routes, so routes the chart cannot read as routes.yaml would render no RoleBinding
at all (a typo like `trigers:` looks like a route without triggers), and an upgrade would take the running
pods' rights away. The key lists follow routes.schema.json, plus the v2 keys (status, keep, concurrency,
schedules); test/helm/refusals.test.ts fails when routes.schema.json allows a key these lists lack.
*/}}
{{- define "tekton-gateway.routesKeys" -}}
{{- dict
  "top" (list "apiVersion" "gateway" "bindings" "templates" "routes" "schedules")
  "route" (list "path" "provider" "secretRef" "namespace" "serviceAccountName" "dedupe" "events" "signature" "eventHeader" "deliveryHeader" "triggers" "status" "keep" "tracing")
  "trigger" (list "name" "events" "filter" "overlays" "bindings" "template" "namespace" "serviceAccountName" "status" "keep" "concurrency")
  | toJson -}}
{{- end -}}

{{/* Fails unless the parsed routes document (dict "doc" DOC "root" $) reads as routes.yaml. */}}
{{- define "tekton-gateway.checkRoutes" -}}
{{- $doc := .doc -}}
{{- $keys := include "tekton-gateway.routesKeys" . | fromJson -}}
{{- $hint := "run `tekton-gateway validate` on the file for every problem" -}}
{{- if not (kindIs "map" $doc) -}}
{{- fail (printf "routes is not a routes.yaml document (a mapping with apiVersion and routes) but a %s; %s" (kindOf $doc) $hint) -}}
{{- end -}}
{{- range $key, $_ := $doc -}}
{{- if not (has $key $keys.top) -}}
{{- fail (printf "routes: unknown top-level key %q (known: %s); %s" $key (join ", " $keys.top) $hint) -}}
{{- end -}}
{{- end -}}
{{- if ne (get $doc "apiVersion" | toString) "tekton-gateway/v1" -}}
{{- fail (printf "routes: apiVersion must be tekton-gateway/v1, not %q; %s" (get $doc "apiVersion" | toString) $hint) -}}
{{- end -}}
{{- $routes := get $doc "routes" -}}
{{- if not (and (kindIs "slice" $routes) $routes) -}}
{{- fail (printf "routes: routes must be a list of at least one route; %s" $hint) -}}
{{- end -}}
{{- range $i, $route := $routes -}}
{{- if not (kindIs "map" $route) -}}
{{- fail (printf "routes: routes[%d] must be a mapping (path, provider, triggers, …); %s" $i $hint) -}}
{{- end -}}
{{- range $key, $_ := $route -}}
{{- if not (has $key $keys.route) -}}
{{- fail (printf "routes: routes[%d].%s is not a route key (known: %s); %s" $i $key (join ", " $keys.route) $hint) -}}
{{- end -}}
{{- end -}}
{{- if not (and (kindIs "string" $route.path) $route.path) -}}
{{- fail (printf "routes: routes[%d].path is required (a string such as /github); %s" $i $hint) -}}
{{- end -}}
{{- if not (and (kindIs "slice" $route.triggers) $route.triggers) -}}
{{- fail (printf "routes: routes[%d] (%s) needs triggers: a list of at least one trigger; %s" $i $route.path $hint) -}}
{{- end -}}
{{- range $j, $trigger := $route.triggers -}}
{{- if not (kindIs "map" $trigger) -}}
{{- fail (printf "routes: routes[%d].triggers[%d] must be a mapping (name, bindings, template, …); %s" $i $j $hint) -}}
{{- end -}}
{{- range $key, $_ := $trigger -}}
{{- if not (has $key $keys.trigger) -}}
{{- fail (printf "routes: routes[%d].triggers[%d].%s is not a trigger key (known: %s); %s" $i $j $key (join ", " $keys.trigger) $hint) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- $paths := list -}}
{{- range $routes -}}{{- $paths = append $paths .path -}}{{- end -}}
{{- include "tekton-gateway.checkIngressPath" (dict "paths" $paths "root" .root) -}}
{{- end -}}

{{/*
Fails when the Ingress forwards no request that some route would take. Requests keep their path; a route
takes its path exactly or as a prefix at a `/` boundary, and `/` takes everything. A Prefix (or
ImplementationSpecific) Ingress path forwards itself and everything under it, an Exact one only itself.
*/}}
{{- define "tekton-gateway.checkIngressPath" -}}
{{- $ingress := .root.Values.ingress -}}
{{- if $ingress.enabled -}}
{{- $path := $ingress.path | default "/" | toString -}}
{{- $exact := eq ($ingress.pathType | toString) "Exact" -}}
{{- $p := trimSuffix "/" $path -}}
{{- $reached := false -}}
{{- range .paths -}}
{{- $r := trimSuffix "/" (toString .) -}}
{{- if $exact -}}
{{- if or (eq $r "") (eq $path $r) (hasPrefix (printf "%s/" $r) $path) -}}{{- $reached = true -}}{{- end -}}
{{- else if or (eq $p "") (eq $r "") (eq $r $p) (hasPrefix (printf "%s/" $p) $r) (hasPrefix (printf "%s/" $r) $p) -}}
{{- $reached = true -}}
{{- end -}}
{{- end -}}
{{- if not $reached -}}
{{- fail (printf "ingress.path %s (pathType %s) reaches no route: requests keep their path, and the routes are %s. Give the routes paths under it (e.g. %s%s) or change ingress.path" $path ($ingress.pathType | toString) (join ", " .paths) $p (first .paths)) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Fails when the two container ports collide: the gateway could not listen on both. */}}
{{- define "tekton-gateway.checkPorts" -}}
{{- if eq (.Values.ports.http | int) (.Values.ports.admin | int) -}}
{{- fail (printf "ports.http and ports.admin are both %d: the webhook port and the admin port must differ" (.Values.ports.http | int)) -}}
{{- end -}}
{{- end -}}

{{/* The admin Service's name: the release's name with -admin, within a DNS label's 63 characters. */}}
{{- define "tekton-gateway.adminServiceName" -}}
{{- printf "%s-admin" (include "tekton-gateway.fullname" . | trunc 57 | trimSuffix "-") -}}
{{- end -}}
