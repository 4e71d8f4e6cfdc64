// The KubeFledged API (charts.helm.kubefledged.io/v1alpha2): one object = one kube-fledged release.
// Its name is the release name, its spec holds the chart's values, its status says what is deployed.
// The names of the original helm-operator are kept; the labels, finalizer and field manager are ours.

export const GROUP = 'charts.helm.kubefledged.io';
export const VERSION = 'v1alpha2';
export const PLURAL = 'kubefledgeds';
export const KIND = 'KubeFledged';
export const API_VERSION = `${GROUP}/${VERSION}`;

/** The finalizer that lets the operator remove every object of a release before its KubeFledged goes. */
export const FINALIZER = 'charts.helm.kubefledged.io/uninstall-release';
/** The one field manager of every server-side apply the operator makes. */
export const FIELD_MANAGER = 'kubefledged-operator';
/** Labels every applied object carries: which KubeFledged owns it (listing them finds what to prune). */
export const OWNER_NAME_LABEL = 'charts.helm.kubefledged.io/owner-name';
export const OWNER_NAMESPACE_LABEL = 'charts.helm.kubefledged.io/owner-namespace';

/** The one condition type, as in the original helm-operator. */
export const DEPLOYED = 'Deployed';

/** Reasons of the Deployed condition. */
export const Reason = {
  /** every rendered object applied, nothing stale left */
  InstallSuccessful: 'InstallSuccessful',
  UpgradeSuccessful: 'UpgradeSuccessful',
  /** the spec is not an object, or `helm template` refused the values (the message names the value) */
  InvalidValues: 'InvalidValues',
  /** the API server refused an object in the server-side dry run: nothing was applied */
  DryRunFailed: 'DryRunFailed',
  /** an apply or prune failed after a successful dry run (retried with backoff) */
  ApplyFailed: 'ApplyFailed',
  /** the finalizer is removing the release */
  Uninstalling: 'Uninstalling',
} as const;
export type ReasonType = (typeof Reason)[keyof typeof Reason];

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

export interface DeployedRelease {
  /** the release name (= the object's name) */
  name: string;
  /** the chart's name and version, e.g. kube-fledged-v0.11.0 */
  chart: string;
  /** how many objects the release consists of */
  objects: number;
}

export interface KubeFledgedStatus {
  conditions?: Condition[];
  observedGeneration?: number;
  /** sha256 of the values applied last (the spec merged over the chart's defaults) */
  valuesHash?: string;
  deployedRelease?: DeployedRelease;
}

export interface KubeFledged {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace: string;
    uid?: string;
    generation?: number;
    resourceVersion?: string;
    deletionTimestamp?: string;
    finalizers?: string[];
    labels?: Record<string, string>;
  };
  spec?: unknown;
  status?: KubeFledgedStatus;
}
