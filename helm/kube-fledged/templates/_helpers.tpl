{{/*
Name of the chart (nameOverride wins).
*/}}
{{- define "kubefledged.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Fully qualified name: fullnameOverride, or the release name when it contains the chart name,
or <release>-<chart>; at most 63 characters.
*/}}
{{- define "kubefledged.fullname" -}}
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

{{- define "kubefledged.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Object names. */}}
{{- define "kubefledged.controllerName" -}}
{{- printf "%s-controller" (include "kubefledged.fullname" .) -}}
{{- end -}}
{{- define "kubefledged.webhookServerName" -}}
{{- printf "%s-webhook-server" (include "kubefledged.fullname" .) -}}
{{- end -}}
{{- define "kubefledged.webhookServiceName" -}}
{{- default (include "kubefledged.webhookServerName" .) .Values.webhookService.name -}}
{{- end -}}
{{- define "kubefledged.validatingWebhookName" -}}
{{- include "kubefledged.webhookServerName" . -}}
{{- end -}}
{{- define "kubefledged.webhookServerCertSecretName" -}}
{{- printf "%s-webhook-server-cert" (include "kubefledged.fullname" .) -}}
{{- end -}}
{{- define "kubefledged.leaderElectionLeaseName" -}}
{{- include "kubefledged.controllerName" . -}}
{{- end -}}

{{/* Image tag of the controller, webhook server and cri-client images. */}}
{{- define "kubefledged.imageTag" -}}
{{- default .Chart.AppVersion .Values.image.tag -}}
{{- end -}}

{{/*
Selector labels of one component ("controller" or "webhook-server").
Call with (dict "ctx" $ "component" "controller").
*/}}
{{- define "kubefledged.selectorLabels" -}}
{{- if .ctx.Values.plainManifestSelectors -}}
app: kubefledged
kubefledged: kubefledged-{{ .component }}
{{- else -}}
app.kubernetes.io/name: {{ include "kubefledged.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/part-of: {{ include "kubefledged.name" .ctx }}-{{ .component }}
{{- end -}}
{{- end -}}

{{/*
Labels of every object of one component: the chart's app.kubernetes.io/* labels and the
app/kubefledged labels of the original manifests (used by `kubectl ... -l app=kubefledged`).
Call with (dict "ctx" $ "component" "controller"), plus "managedBy" to name another manager.
*/}}
{{- define "kubefledged.labels" -}}
helm.sh/chart: {{ include "kubefledged.chart" .ctx }}
app.kubernetes.io/name: {{ include "kubefledged.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/part-of: {{ include "kubefledged.name" .ctx }}-{{ .component }}
app.kubernetes.io/component: {{ .component }}
{{- if .ctx.Chart.AppVersion }}
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .managedBy | default .ctx.Release.Service }}
app: kubefledged
kubefledged: kubefledged-{{ .component }}
{{- end -}}

{{/* Resources of one component's container: the top-level `resources` wins when non-empty. */}}
{{- define "kubefledged.resources" -}}
{{- if .ctx.Values.resources -}}
{{- toYaml .ctx.Values.resources -}}
{{- else -}}
{{- toYaml .own -}}
{{- end -}}
{{- end -}}

{{/* Checks of values that the schema cannot express; each failure names the value and the fix. */}}
{{- define "kubefledged.validate" -}}
{{- if and .Values.webhookServer.enable .Values.webhookService.targetPort -}}
{{- if ne (toString .Values.webhookService.targetPort) (toString .Values.args.webhookServerPort) -}}
{{- fail (printf "webhookService.targetPort (%v) must equal args.webhookServerPort (%v): the Service forwards to the port the webhook server listens on. Set both to the same port, or leave webhookService.targetPort empty." .Values.webhookService.targetPort .Values.args.webhookServerPort) -}}
{{- end -}}
{{- end -}}
{{- if and .Values.webhookServer.enable .Values.webhookServer.hostNetwork .Values.controller.hostNetwork -}}
{{- if eq (toString .Values.controller.metricsPort) (toString .Values.args.webhookServerPort) -}}
{{- fail (printf "controller.metricsPort and args.webhookServerPort are both %v with hostNetwork on both Deployments: they would collide on a node. Choose different ports." .Values.controller.metricsPort) -}}
{{- end -}}
{{- end -}}
{{- if and .Values.webhookServer.certManager.enabled (ne (dir .Values.args.webhookServerCertFile) (dir .Values.args.webhookServerKeyFile)) -}}
{{- fail (printf "args.webhookServerCertFile (%s) and args.webhookServerKeyFile (%s) must be in the same directory: the certificate Secret is mounted there." .Values.args.webhookServerCertFile .Values.args.webhookServerKeyFile) -}}
{{- end -}}
{{- if and .Values.webhookServer.certManager.enabled (not .Values.webhookServer.enable) -}}
{{- fail "webhookServer.certManager.enabled=true needs webhookServer.enable=true (the certificate is for the webhook server)." -}}
{{- end -}}
{{- end -}}
