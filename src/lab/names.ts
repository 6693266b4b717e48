// Deterministic names for everything a lab creates. Every name derives from the lab name, so two
// labs never collide, and `egw down` can recognise exactly its own namespaces (and nobody else's).
import { createHash } from "node:crypto";
import { dns1123LabelProblem, dns1123SubdomainProblem } from "../api/names.js";
import { err, ok, type Result } from "../util/result.js";

export const DEFAULT_LAB_NAME = "egw";
export const MAX_LAB_NAME_LENGTH = 12;
const LAB_NAME = /^[a-z]([a-z0-9-]*[a-z0-9])?$/;

/** Checks a lab name (`--name`): short, lower-case letters, digits and '-'. */
export const validateLabName = (name: string): Result<string, string> => {
  if (name.length === 0 || name.length > MAX_LAB_NAME_LENGTH || !LAB_NAME.test(name)) {
    return err(
      `lab name "${name}" is not valid: use 1-${MAX_LAB_NAME_LENGTH} lower-case letters, digits and '-', ` +
        `starting with a letter and not ending with '-' (e.g. "egw", "lab2")`,
    );
  }
  return ok(name);
};

/** The fixed (non-pod) namespaces of a lab, by role. */
export type InfraRole = "ul" | "ctl" | "rtr" | "ext";

const prefix = (lab: string): string => `egw-${lab}-`;

export const infraNetns = (lab: string, role: InfraRole): string => `${prefix(lab)}${role}`;
export const nodeNetns = (lab: string, index: number): string => `${prefix(lab)}n${index}`;
/** A scratch namespace used only while checking prerequisites (kernel VXLAN). */
export const scratchNetns = (lab: string): string => `${prefix(lab)}chk`;

const shortHash = (text: string, hexChars: number): string =>
  createHash("sha256").update(text).digest("hex").slice(0, hexChars);

const podKey = (namespace: string, pod: string): string => `${namespace}/${pod}`;

/** The pod's network namespace: `egw-<lab>-p-<12 hex>` (hash of namespace/name). */
export const podNetns = (lab: string, namespace: string, pod: string): string =>
  `${prefix(lab)}p-${shortHash(podKey(namespace, pod), 12)}`;

/**
 * Host side of the pod's veth, in its node's namespace: `ew` + 11 hex chars = 13 bytes, within
 * the kernel's 15-byte limit whatever the pod's name is.
 */
export const podHostInterface = (lab: string, namespace: string, pod: string): string =>
  `ew${shortHash(`${lab}/${podKey(namespace, pod)}`, 11)}`;

/** The pod side of the veth, inside the pod namespace. */
export const POD_INTERFACE = "eth0";
/** Every attached namespace's underlay interface (its peer in the switch is `ul-<role>`). */
export const UNDERLAY_INTERFACE = "ul0";
export const UNDERLAY_BRIDGE = "br0";
export const switchPort = (attached: string): string => `ul-${attached}`;

/**
 * Checks that a pod's identity can name a netns and interface: namespace a DNS-1123 label, name a
 * DNS-1123 subdomain (as Kubernetes requires). Returns the message for the pod's status otherwise.
 */
export const validatePodIdentity = (namespace: string, name: string): Result<void, string> => {
  const nsProblem = dns1123LabelProblem(namespace);
  if (nsProblem) return err(`metadata.namespace "${namespace}" ${nsProblem}`);
  const nameProblem = dns1123SubdomainProblem(name);
  if (nameProblem) return err(`metadata.name "${name}" ${nameProblem}`);
  return ok(undefined);
};

const SUFFIX = /^(ul|ctl|rtr|ext|chk|n[1-9][0-9]*|p-[0-9a-f]{12})$/;

/**
 * True when `netns` belongs to `lab`. Unambiguous across labs: another lab whose name extends this
 * one ("a" vs "a-p") would leave a suffix such as "p-ctl" or "p-n1", which the pattern rejects.
 */
export const isLabNetns = (lab: string, netns: string): boolean =>
  netns.startsWith(prefix(lab)) && SUFFIX.test(netns.slice(prefix(lab).length));

export const isPodNetns = (lab: string, netns: string): boolean =>
  isLabNetns(lab, netns) && netns.slice(prefix(lab).length).startsWith("p-");
