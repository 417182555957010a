{{/* Names and labels, as `helm create` makes them. */}}
{{- define "gitflink.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "gitflink.fullname" -}}
{{- if contains .Chart.Name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "gitflink.selectorLabels" -}}
app.kubernetes.io/name: {{ include "gitflink.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "gitflink.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "gitflink.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "gitflink.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "gitflink.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The namespaces the agent runs clusters in: watchNamespaces, else the release namespace. */}}
{{- define "gitflink.namespaces" -}}
{{- $names := .Values.watchNamespaces | default (list .Release.Namespace) }}
{{- join "," (uniq $names) }}
{{- end }}

{{- define "gitflink.leaderElection" -}}
{{- if or .Values.leaderElection.enabled (gt (int .Values.replicaCount) 1) }}true{{ else }}false{{ end }}
{{- end }}

{{- define "gitflink.leaseName" -}}
{{- default (include "gitflink.fullname" .) .Values.leaderElection.leaseName }}
{{- end }}

{{- define "gitflink.leaseNamespace" -}}
{{- default .Release.Namespace .Values.leaderElection.leaseNamespace }}
{{- end }}

{{/*
The rules the agent needs where it runs clusters: exactly the requests of
gitflink/adapters/kubernetes_runtime (docs/helm.md#rbac lists each one and why). A server-side
apply that creates an object is authorized as create too. No watch, no `*`, no read of Secrets.
*/}}
{{- define "gitflink.rules" -}}
- apiGroups: ["apps"]
  resources: ["deployments"]
  verbs: ["get", "create", "patch", "delete"]
# Owner references with blockOwnerDeletion, where OwnerReferencesPermissionEnforcement runs.
- apiGroups: ["apps"]
  resources: ["deployments/finalizers"]
  verbs: ["update"]
- apiGroups: [""]
  resources: ["configmaps", "services"]
  verbs: ["get", "create", "patch"]
# The secret part of each cluster's Flink configuration: applied, never read (docs/helm.md#rbac).
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["create", "patch"]
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["list"]
{{- if .Values.rbac.flinkIngresses }}
- apiGroups: ["networking.k8s.io"]
  resources: ["ingresses"]
  verbs: ["get", "create", "patch"]
{{- end }}
{{- if .Values.rbac.flinkRoles }}
# Kubernetes HA and native mode: a ServiceAccount, Role and RoleBinding per cluster, and what
# that Role grants Flink's pods (the agent must hold it to grant it).
- apiGroups: [""]
  resources: ["serviceaccounts"]
  verbs: ["get", "create", "patch"]
- apiGroups: ["rbac.authorization.k8s.io"]
  resources: ["roles", "rolebindings"]
  verbs: ["get", "create", "patch"]
- apiGroups: [""]
  resources: ["pods", "configmaps"]
  verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
- apiGroups: ["coordination.k8s.io"]
  resources: ["leases"]
  verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
- apiGroups: [""]
  resources: ["services"]
  verbs: ["list", "watch"]
- apiGroups: ["apps"]
  resources: ["deployments"]
  verbs: ["list", "watch"]
{{- end }}
{{- if eq .Values.status.mode "cr" }}
# CR status mode: the custom resources, their status, and Events on them. No delete: a resource
# deleted from Git keeps its custom resource as its tombstone.
- apiGroups: ["flink.apache.org"]
  resources: ["flinkdeployments", "flinksessionjobs", "flinkstatesnapshots"]
  verbs: ["get", "list", "create", "patch"]
- apiGroups: ["flink.apache.org"]
  resources: ["flinkdeployments/status", "flinksessionjobs/status", "flinkstatesnapshots/status"]
  verbs: ["update"]
- apiGroups: [""]
  resources: ["events"]
  verbs: ["create"]
{{- end }}
{{- end }}
