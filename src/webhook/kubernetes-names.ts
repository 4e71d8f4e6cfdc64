// Kubernetes name syntax the webhook checks before the controller puts a value into a Job or a selector:
// label keys and values (k8s.io/apimachinery/pkg/util/validation: IsQualifiedName, IsValidLabelValue) and
// DNS-1123 subdomains (IsDNS1123Subdomain, the syntax of a Secret's name). Pure: string in, the reason it
// is invalid (or undefined) out. The reasons follow apimachinery's wording.

const QUALIFIED_NAME_MAX = 63;
const LABEL_VALUE_MAX = 63;
const DNS1123_SUBDOMAIN_MAX = 253;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const NAME_CHARSET = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const SUBDOMAIN_CHARSET = "must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";

/** Why `value` is not a DNS-1123 subdomain (at most 253 characters), or undefined. */
export function dns1123SubdomainError(value: string): string | undefined {
  if (value.length === 0) return 'it is empty';
  if (value.length > DNS1123_SUBDOMAIN_MAX) return `it has ${value.length} characters, at most ${DNS1123_SUBDOMAIN_MAX} are allowed`;
  if (!DNS1123_SUBDOMAIN.test(value)) return `a lowercase RFC 1123 subdomain ${SUBDOMAIN_CHARSET}`;
  return undefined;
}

/** Why `key` is not a valid label key ([prefix/]name), or undefined. */
export function labelKeyError(key: string): string | undefined {
  const parts = key.split('/');
  if (parts.length > 2) return "it has more than one '/'; a label key is [prefix/]name";
  const name = parts.length === 2 ? parts[1]! : parts[0]!;
  if (parts.length === 2) {
    const prefix = parts[0]!;
    if (prefix.length === 0) return "the prefix before '/' is empty";
    const prefixError = dns1123SubdomainError(prefix);
    if (prefixError !== undefined) return `the prefix ${JSON.stringify(prefix)} is not a DNS subdomain: ${prefixError}`;
  }
  if (name.length === 0) return 'the name part is empty';
  if (name.length > QUALIFIED_NAME_MAX) return `the name part has ${name.length} characters, at most ${QUALIFIED_NAME_MAX} are allowed`;
  if (!QUALIFIED_NAME.test(name)) return `the name part ${NAME_CHARSET}`;
  return undefined;
}

/** Why `value` is not a valid label value (may be empty), or undefined. */
export function labelValueError(value: string): string | undefined {
  if (value.length > LABEL_VALUE_MAX) return `it has ${value.length} characters, at most ${LABEL_VALUE_MAX} are allowed`;
  if (value.length > 0 && !QUALIFIED_NAME.test(value)) return `a label value ${NAME_CHARSET}, or be empty`;
  return undefined;
}
