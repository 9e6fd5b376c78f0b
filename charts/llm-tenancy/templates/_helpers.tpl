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

{{- /* The gateway's sign-in settings (README "Signing in"), from gateway.signin. */ -}}
{{- define "llm-tenancy.gatewaySigninEnv" -}}
{{- $s := .Values.gateway.signin -}}
{{- $host := "" -}}
{{- if .Values.gateway.route.enabled }}{{ $host = .Values.gateway.route.host }}{{ else if .Values.gateway.ingress.enabled }}{{ $host = .Values.gateway.ingress.host }}{{ end -}}
{{- $public := $s.publicUrl | default (ternary (printf "https://%s" $host) "" (ne $host "")) -}}
- name: SIGNIN_PROVIDER
  value: {{ $s.provider | quote }}
- name: PUBLIC_URL
  value: {{ required "gateway.signin.publicUrl is required with sign-in when neither the Route nor the Ingress names a host" $public | quote }}
{{- if eq $s.provider "oidc" }}
- name: OIDC_ISSUER_URL
  value: {{ required "gateway.signin.issuerUrl is required with provider oidc" $s.issuerUrl | quote }}
{{- else }}
- name: OPENSHIFT_API_URL
  value: {{ $s.openshiftApiUrl | quote }}
# The API server's certificate is signed by the cluster CA.
- name: NODE_EXTRA_CA_CERTS
  value: /var/run/secrets/kubernetes.io/serviceaccount/ca.crt
{{- end }}
- name: OIDC_CLIENT_ID
  value: {{ required "gateway.signin.clientId is required with sign-in" $s.clientId | quote }}
- name: OIDC_CLIENT_SECRET_FILE
  value: /etc/llm-tenancy/signin/client-secret
- name: SESSION_SECRET_FILE
  value: /etc/llm-tenancy/signin/session-secret
{{- with $s.scopes }}
- name: OIDC_SCOPES
  value: {{ . | quote }}
{{- end }}
- name: OIDC_USERNAME_CLAIM
  value: {{ $s.usernameClaim | quote }}
- name: OIDC_GROUPS_CLAIM
  value: {{ $s.groupsClaim | quote }}
- name: ROLE_GROUPS
  value: {{ $s.roleGroups | quote }}
- name: DEFAULT_ROLE
  value: {{ $s.defaultRole | quote }}
- name: AUTO_PROVISION
  value: {{ $s.autoProvision | quote }}
{{- if $s.autoCreateTeams }}
- name: SIGNIN_AUTO_CREATE_TEAMS
  value: "true"
- name: SIGNIN_TEAM_GROUPS
  value: {{ required "gateway.signin.teamGroups is required with gateway.signin.autoCreateTeams: the groups that get a Team, like team-*" $s.teamGroups | quote }}
{{- end }}
- name: USER_READY_TIMEOUT
  value: {{ $s.userReadyTimeout | quote }}
- name: SESSION_IDLE_LIFETIME
  value: {{ $s.idleLifetime | quote }}
- name: SESSION_ABSOLUTE_LIFETIME
  value: {{ $s.absoluteLifetime | quote }}
- name: CLI_SESSION_LIFETIME
  value: {{ $s.cliSessionLifetime | quote }}
- name: USERNAME_PREFIX
  value: {{ $s.usernamePrefix | quote }}
- name: GROUPS_PREFIX
  value: {{ $s.groupsPrefix | quote }}
{{- end -}}

{{- /* The audit trail's env entries (README "Audit trail"), from audit.*, for both programs. */ -}}
{{- define "llm-tenancy.auditEnv" -}}
{{- with .Values.audit }}
- name: AUDIT_LOG
  value: {{ if eq .log "file" }}/var/log/llm-tenancy/audit.jsonl{{ else }}stdout{{ end }}
{{- if .webhook.urlSecret.name }}
- name: AUDIT_WEBHOOK_URL
  valueFrom: { secretKeyRef: { name: {{ .webhook.urlSecret.name | quote }}, key: {{ .webhook.urlSecret.key | quote }} } }
{{- else if .webhook.url }}
- name: AUDIT_WEBHOOK_URL
  value: {{ .webhook.url | quote }}
{{- end }}
{{- if .webhook.secret.name }}
- name: AUDIT_WEBHOOK_SECRET_FILE
  value: /var/run/llm-tenancy/audit/webhook-secret
{{- end }}
{{- end }}
{{- end -}}

{{- /* The audit trail's mounts: the log file's volume, the webhook's signing secret. */ -}}
{{- define "llm-tenancy.auditMounts" -}}
{{- if eq .Values.audit.log "file" }}
- name: audit-log
  mountPath: /var/log/llm-tenancy
{{- end }}
{{- if .Values.audit.webhook.secret.name }}
- name: audit-webhook-secret
  mountPath: /var/run/llm-tenancy/audit
  readOnly: true
{{- end }}
{{- end -}}

{{- define "llm-tenancy.auditVolumes" -}}
{{- if eq .Values.audit.log "file" }}
- name: audit-log
  {{- toYaml .Values.audit.volume | nindent 2 }}
{{- end }}
{{- with .Values.audit.webhook.secret }}
{{- if .name }}
# Mounted whole (no subPath), so a rotated Secret reaches the file.
- name: audit-webhook-secret
  secret:
    secretName: {{ .name | quote }}
    items: [{ key: {{ .key | quote }}, path: webhook-secret }]
{{- end }}
{{- end }}
{{- end -}}
