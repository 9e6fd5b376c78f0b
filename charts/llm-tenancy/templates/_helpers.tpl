{{/* Names and labels, as `helm create` makes them. */}}
{{- define "llm-tenancy.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "llm-tenancy.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else if contains (include "llm-tenancy.name" .) .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "llm-tenancy.name" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "llm-tenancy.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "llm-tenancy.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: llm-tenancy
{{- end -}}

{{/* Selector labels of one component (operator, gateway, redis). */}}
{{- define "llm-tenancy.selector" -}}
app.kubernetes.io/name: {{ include "llm-tenancy.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "llm-tenancy.componentLabels" -}}
{{ include "llm-tenancy.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "llm-tenancy.image" -}}
{{- $image := .Values.image -}}
{{- if $image.digest -}}
{{- printf "%s@%s" $image.repository $image.digest -}}
{{- else -}}
{{- printf "%s:%s" $image.repository (default .Chart.AppVersion $image.tag) -}}
{{- end -}}
{{- end -}}

{{/* True when the cluster serves OpenShift Routes, or the Route is asked for explicitly. */}}
{{- define "llm-tenancy.publicHost" -}}
{{- if and .Values.gateway.route.enabled .Values.gateway.route.host -}}
{{- .Values.gateway.route.host -}}
{{- else if and .Values.gateway.ingress.enabled .Values.gateway.ingress.host -}}
{{- .Values.gateway.ingress.host -}}
{{- end -}}
{{- end -}}

{{/* GATEWAY_URL: publicUrl, else https://<route or ingress host>/v1, else the Service. */}}
{{- define "llm-tenancy.publicUrl" -}}
{{- if .Values.publicUrl -}}
{{- .Values.publicUrl -}}
{{- else if include "llm-tenancy.publicHost" . -}}
{{- printf "https://%s/v1" (include "llm-tenancy.publicHost" .) -}}
{{- else -}}
{{- printf "http://%s-gateway.%s.svc:%d/v1" (include "llm-tenancy.fullname" .) .Release.Namespace (int .Values.gateway.service.port) -}}
{{- end -}}
{{- end -}}

{{/* The REDIS_URL env entry, from the value, a Secret or the in-chart Redis. */}}
{{- define "llm-tenancy.redisEnv" -}}
{{- if .Values.redis.inChart.enabled }}
- name: REDIS_URL
  value: {{ printf "redis://%s-redis.%s.svc:6379" (include "llm-tenancy.fullname" .) .Release.Namespace | quote }}
{{- else if .Values.redis.existingSecret.name }}
- name: REDIS_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.redis.existingSecret.name }}
      key: {{ .Values.redis.existingSecret.key }}
{{- else }}
- name: REDIS_URL
  value: {{ required "redis.url, redis.existingSecret.name or redis.inChart.enabled must be set: the routing config lives in Redis" .Values.redis.url | quote }}
{{- end }}
{{- end -}}

{{/* Settings by their README names, as env entries. */}}
{{- define "llm-tenancy.settingsEnv" -}}
{{- range $name, $value := . }}
- name: {{ $name }}
  value: {{ $value | toString | quote }}
{{- end }}
{{- end -}}

{{- define "llm-tenancy.podSecurity" -}}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- end -}}
