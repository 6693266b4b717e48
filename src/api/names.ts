// Kubernetes name syntax (DNS-1123) and label/annotation key and value syntax. Each check returns
// undefined when valid, or a message fragment that follows the quoted value.

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const QUALIFIED_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

export function dns1123LabelProblem(s: string): string | undefined {
  if (s.length > 63 || !DNS1123_LABEL.test(s)) {
    return "is not a valid DNS-1123 label: use at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit";
  }
  return undefined;
}

export function dns1123SubdomainProblem(s: string): string | undefined {
  if (s.length > 253 || !s.split(".").every((part) => DNS1123_LABEL.test(part))) {
    return "is not a valid DNS-1123 subdomain: use at most 253 lower-case letters, digits, '-' and '.', each dot-separated part starting and ending with a letter or digit";
  }
  return undefined;
}

/** Label and annotation keys: `[prefix/]name`, prefix a DNS-1123 subdomain, name at most 63 characters. */
export function qualifiedKeyProblem(key: string): string | undefined {
  const slash = key.indexOf("/");
  const prefix = slash < 0 ? undefined : key.slice(0, slash);
  const name = slash < 0 ? key : key.slice(slash + 1);
  if (prefix !== undefined && (prefix === "" || dns1123SubdomainProblem(prefix) !== undefined)) {
    return "is not a valid key: the prefix before '/' must be a DNS-1123 subdomain such as example.com";
  }
  if (name.length > 63 || !QUALIFIED_NAME.test(name)) {
    return "is not a valid key: the name part must be 1-63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit";
  }
  return undefined;
}

export function labelValueProblem(value: string): string | undefined {
  if (value === "") return undefined;
  if (value.length > 63 || !QUALIFIED_NAME.test(value)) {
    return "is not a valid label value: use at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit (or empty)";
  }
  return undefined;
}

/** Linux interface names: 1-15 bytes, no '/', ':' or whitespace. */
export function interfaceNameProblem(s: string): string | undefined {
  if (s.length === 0 || s.length > 15 || /[/:\s]/.test(s) || s === "." || s === "..") {
    return "is not a valid interface name: use 1-15 characters without '/', ':' or whitespace";
  }
  return undefined;
}

/**
 * Domain names for egress rules, as Calico accepts them: exact names, or one `*` standing for a
 * whole label anywhere but the last position (`*.example.com`).
 */
export function domainProblem(s: string): string | undefined {
  const labels = s.toLowerCase().split(".");
  const wildcards = labels.filter((l) => l === "*").length;
  const shapeOk =
    s.length <= 253 &&
    labels.every((l) => l === "*" || (l.length <= 63 && /^[a-z0-9_]([-a-z0-9_]*[a-z0-9_])?$/.test(l)));
  if (!shapeOk || wildcards > 1 || labels[labels.length - 1] === "*") {
    return "is not a valid domain: use a DNS name such as example.com, optionally with one '*' label such as *.example.com";
  }
  return undefined;
}
