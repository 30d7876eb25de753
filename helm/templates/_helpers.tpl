{{/* vim: set filetype=mustache: */}}

{{/* Chart name, 63-char DNS label limit. */}}
{{- define "jts.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Fully qualified app name, 63 chars max (some Kubernetes name fields are limited to DNS labels).
The release name alone when it already contains the chart name.
*/}}
{{- define "jts.fullname" -}}
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

{{/* A name derived from the fullname with a suffix, still within 63 chars. */}}
{{- define "jts.suffixed" -}}
{{- $ctx := index . 0 -}}{{- $suffix := index . 1 -}}
{{- printf "%s-%s" (include "jts.fullname" $ctx | trunc (int (sub 62 (len $suffix))) | trimSuffix "-") $suffix -}}
{{- end -}}

{{- define "jts.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels that never change for the life of a release (Deployment/Service selectors). */}}
{{- define "jts.selectorLabels" -}}
app.kubernetes.io/name: {{ include "jts.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* Labels shared by resources that are not the app's pods (e.g. the helm test pod). */}}
{{- define "jts.baseLabels" -}}
helm.sh/chart: {{ include "jts.chart" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | trunc 63 | trimSuffix "-" | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: jitsi
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{- define "jts.labels" -}}
{{ include "jts.selectorLabels" . }}
{{ include "jts.baseLabels" . }}
{{- end -}}

{{/* metadata.annotations block body from commonAnnotations plus extras (a dict). */}}
{{- define "jts.annotations" -}}
{{- $all := merge (dict) (index . 1 | default dict) ((index . 0).Values.commonAnnotations | default dict) -}}
{{- if $all -}}
annotations:
  {{- toYaml $all | nindent 2 }}
{{- end -}}
{{- end -}}

{{/* Label that lets a pod in the release namespace reach the API through the NetworkPolicy. */}}
{{- define "jts.clientLabel" -}}
{{- include "jts.suffixed" (list . "client") -}}
{{- end -}}

{{- define "jts.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "jts.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "jts.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}
{{- end -}}

{{/* ---- Secrets: names resolved like bitnami common.secrets.name ---- */}}

{{/* The Secret holding the HS256 key shared with Prosody (jitsi-helm reads the same one). */}}
{{- define "jts.jitsiSecretName" -}}
{{- .Values.jitsi.existingSecretName | default (include "jts.suffixed" (list . "jitsi-jwt")) -}}
{{- end -}}
{{- define "jts.jitsiSecretKey" -}}
{{- if .Values.jitsi.existingSecretName -}}{{ .Values.jitsi.existingSecretKey }}{{- else -}}JWT_APP_SECRET{{- end -}}
{{- end -}}

{{/* ROOM_NAME_SECRET / AUDIT_HASH_SECRET (and an inline REDIS_URL). */}}
{{- define "jts.secretName" -}}
{{- .Values.secrets.existingSecret | default (include "jts.fullname" .) -}}
{{- end -}}

{{- define "jts.clientsEnabled" -}}
{{- if or .Values.clients.existingSecret (gt (len .Values.clients.registry) 0) -}}true{{- end -}}
{{- end -}}
{{- define "jts.clientsSecretName" -}}
{{- .Values.clients.existingSecret | default (include "jts.suffixed" (list . "clients")) -}}
{{- end -}}
{{- define "jts.clientsKey" -}}
{{- if .Values.clients.existingSecret -}}{{ .Values.clients.existingSecretKey }}{{- else -}}clients.json{{- end -}}
{{- end -}}

{{- define "jts.redisEnabled" -}}
{{- if or .Values.redis.url .Values.redis.existingSecret -}}true{{- end -}}
{{- end -}}
{{- define "jts.redisSecretName" -}}
{{- .Values.redis.existingSecret | default (include "jts.fullname" .) -}}
{{- end -}}
{{- define "jts.redisSecretKey" -}}
{{- if .Values.redis.existingSecret -}}{{ .Values.redis.existingSecretKey }}{{- else -}}REDIS_URL{{- end -}}
{{- end -}}

{{/*
A secret value: the one given in values, else the one already in the cluster (so upgrades keep
room names and the Prosody secret stable), else 48 random alphanumerics. Args: ctx, secret name, key, given.
*/}}
{{- define "jts.secretValue" -}}
{{- $ctx := index . 0 -}}{{- $name := index . 1 -}}{{- $key := index . 2 -}}{{- $given := index . 3 -}}
{{- if $given -}}
{{- $given -}}
{{- else -}}
{{- $existing := (lookup "v1" "Secret" $ctx.Release.Namespace $name) | default dict -}}
{{- $data := get $existing "data" | default dict -}}
{{- if hasKey $data $key -}}
{{- index $data $key | b64dec -}}
{{- else -}}
{{- randAlphaNum 48 -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Pods the Deployment runs at least (PDB and the Redis rule look at it). */}}
{{- define "jts.minReplicas" -}}
{{- if .Values.autoscaling.enabled -}}{{ .Values.autoscaling.minReplicas | int }}{{- else -}}{{ .Values.replicaCount | int }}{{- end -}}
{{- end -}}
{{- define "jts.maxReplicas" -}}
{{- if .Values.autoscaling.enabled -}}{{ .Values.autoscaling.maxReplicas | int }}{{- else -}}{{ .Values.replicaCount | int }}{{- end -}}
{{- end -}}

{{/* Combinations the schema cannot express; each fails the render with a fix. */}}
{{- define "jts.validate" -}}
{{- if and (gt (include "jts.maxReplicas" . | int) 1) (not (include "jts.redisEnabled" .)) -}}
{{- fail "more than one replica (replicaCount or autoscaling) needs redis.url or redis.existingSecret: the EMR replay store and rate limits must be shared between pods" -}}
{{- end -}}
{{- if and .Values.secrets.existingSecret .Values.redis.url -}}
{{- fail "redis.url is stored in the chart's Secret, which is not rendered when secrets.existingSecret is set: use redis.existingSecret" -}}
{{- end -}}
{{- if and .Values.secrets.existingSecret (or .Values.secrets.roomNameSecret .Values.secrets.auditHashSecret) -}}
{{- fail "set either secrets.existingSecret or secrets.roomNameSecret/auditHashSecret, not both" -}}
{{- end -}}
{{- if and .Values.jitsi.existingSecretName .Values.jitsi.appSecret -}}
{{- fail "set either jitsi.existingSecretName or jitsi.appSecret, not both" -}}
{{- end -}}
{{- if and .Values.clients.existingSecret (or (gt (len .Values.clients.registry) 0) (gt (len .Values.clients.keyFiles) 0)) -}}
{{- fail "set either clients.existingSecret or clients.registry/keyFiles, not both" -}}
{{- end -}}
{{- if and .Values.metrics.serviceMonitor.enabled (not .Values.metrics.enabled) -}}
{{- fail "metrics.serviceMonitor.enabled needs metrics.enabled" -}}
{{- end -}}
{{- if and .Values.autoscaling.enabled (not (or .Values.autoscaling.targetCPU .Values.autoscaling.targetMemory)) -}}
{{- fail "autoscaling.enabled needs autoscaling.targetCPU or autoscaling.targetMemory" -}}
{{- end -}}
{{- if and .Values.autoscaling.enabled (lt (.Values.autoscaling.maxReplicas | int) (.Values.autoscaling.minReplicas | int)) -}}
{{- fail "autoscaling.maxReplicas must be >= autoscaling.minReplicas" -}}
{{- end -}}
{{- $drainMs := add (.Values.config.shutdownDelayMs | int) 20000 -}}
{{- if le (mul (.Values.terminationGracePeriodSeconds | int) 1000) $drainMs -}}
{{- fail (printf "terminationGracePeriodSeconds (%d s) must exceed config.shutdownDelayMs + 20 s (%d ms), the service's drain and close budget" (.Values.terminationGracePeriodSeconds | int) $drainMs) -}}
{{- end -}}
{{- if and .Values.metrics.enabled (eq (.Values.containerPorts.http | int) (.Values.containerPorts.metrics | int)) -}}
{{- fail "containerPorts.http and containerPorts.metrics must differ" -}}
{{- end -}}
{{- end -}}

{{/* Non-secret env for the ConfigMap: name -> string, empty/null values left out (service defaults). */}}
{{- define "jts.configEnv" -}}
{{- $c := .Values.config -}}
{{- $env := dict
  "HOST" "0.0.0.0"
  "PORT" (.Values.containerPorts.http | int | toString)
  "LOG_LEVEL" $c.logLevel
  "JITSI_BASE_URL" .Values.jitsi.baseUrl
  "JWT_APP_ID" .Values.jitsi.appId
  "JWT_SIGN_TYPE" "HS256"
  "JWT_ISSUER" .Values.jitsi.issuer
  "JWT_AUDIENCE" .Values.jitsi.audience
  "JWT_SUBJECT" .Values.jitsi.subject
  "JWT_INCLUDE_EMAIL" (ternary "true" "false" (eq (toString $c.includeEmail) "true"))
  "TOKEN_IN_URL" $c.tokenInUrl
  "ROOM_NAME_PREFIX" $c.roomNamePrefix
  "SERVICE_AUDIENCE" $c.serviceAudience
  "TRUST_PROXY" $c.trustProxy
-}}
{{- if .Values.metrics.enabled -}}
{{- $_ := set $env "METRICS_PORT" (.Values.containerPorts.metrics | int | toString) -}}
{{- end -}}
{{- $ints := dict
  "NBF_SKEW_SECONDS" $c.nbfSkewSeconds
  "LATE_GRACE_MINUTES" $c.lateGraceMinutes
  "MAX_VISIT_MINUTES" $c.maxVisitMinutes
  "MAX_ADVANCE_DAYS" $c.maxAdvanceDays
  "DEFAULT_TOKEN_TTL_SECONDS" $c.defaultTokenTtlSeconds
  "MAX_EVENT_LOOP_DELAY_MS" $c.maxEventLoopDelayMs
  "SHUTDOWN_DELAY_MS" $c.shutdownDelayMs
-}}
{{- $rl := $c.rateLimit | default dict -}}
{{- $_ := set $ints "RATE_LIMIT_WINDOW_SECONDS" $rl.windowSeconds -}}
{{- $_ := set $ints "RATE_LIMIT_IP_MAX" $rl.ipMax -}}
{{- $_ := set $ints "RATE_LIMIT_AUTH_FAIL_MAX" $rl.authFailMax -}}
{{- $_ := set $ints "RATE_LIMIT_CLIENT_MAX" $rl.clientMax -}}
{{- range $k, $v := $ints -}}
{{- if not (kindIs "invalid" $v) -}}
{{- $_ := set $env $k ($v | int64 | toString) -}}
{{- end -}}
{{- end -}}
{{- with $c.maxEventLoopUtilization }}{{ $_ := set $env "MAX_EVENT_LOOP_UTILIZATION" (toString .) }}{{ end -}}
{{- $lines := list -}}
{{- range $k := keys $env | sortAlpha -}}
{{- $v := index $env $k -}}
{{- if and (not (kindIs "invalid" $v)) (ne (toString $v) "") -}}
{{- $lines = append $lines (printf "%s: %s" $k ($v | toString | quote)) -}}
{{- end -}}
{{- end -}}
{{- join "\n" $lines -}}
{{- end -}}

{{/* A NetworkPolicy peer from (namespace labels, pod labels); either may be empty. */}}
{{- define "jts.peer" -}}
{{- $peer := dict -}}
{{- with index . 0 }}{{ $_ := set $peer "namespaceSelector" (dict "matchLabels" .) }}{{ end -}}
{{- with index . 1 }}{{ $_ := set $peer "podSelector" (dict "matchLabels" .) }}{{ end -}}
{{- toYaml $peer -}}
{{- end -}}
