// Pure helpers over the routing kinds that agents, the feeds server and the CLI share: BGP
// community syntax and resolution, the BGPConfiguration in force, which BGPPeers a node peers
// with, which pools' egress IPs are announced, which feeds cover a gateway, and Secret values (BGP
// passwords, feed credentials).
// No I/O; objects come from the caller (a mirror, a store listing, a test).
import { parseSelector } from "../selector/selector.js";
import { err, ok, type Result } from "../util/result.js";
import { applyDefaults, DEFAULTS } from "./defaults.js";
import type { Node, Secret } from "./schemas/core.js";
import type { EgressGateway, IPPool } from "./schemas/egress.js";
import type { BGPConfiguration, BGPPeer, FirewallFeed, SecretKeyRef } from "./schemas/routing.js";
import { SECRET_NAMESPACE } from "./well-known.js";

/** The only BGPConfiguration that applies (Calico's rule); others are rejected at apply. */
export const BGP_CONFIGURATION_NAME = "default";

// ---- communities ----------------------------------------------------------------------------

/** A standard (RFC 1997, two 16-bit parts) or large (RFC 8092, three 32-bit parts) community. */
export type Community =
  | { readonly type: "standard"; readonly parts: readonly [number, number]; readonly text: string }
  | { readonly type: "large"; readonly parts: readonly [number, number, number]; readonly text: string };

const UINT = /^(0|[1-9][0-9]{0,9})$/;
const MAX16 = 0xffff;
const MAX32 = 0xffffffff;

/**
 * Parses `A:B` (each 0-65535) or `A:B:C` (each 0-4294967295). The error follows the quoted value
 * in a message: `"64512:70000" is not a valid community: …`.
 */
export function parseCommunity(s: string): Result<Community, string> {
  const parts = s.split(":");
  const numbers = parts.map((p) => (UINT.test(p) ? Number(p) : NaN));
  const shape =
    'is not a valid community: expected "A:B" (standard, each 0-65535) or "A:B:C" (large, each 0-4294967295)';
  if (numbers.some((n) => Number.isNaN(n))) return err(shape);
  if (numbers.length === 2) {
    const [a, b] = numbers as [number, number];
    if (a > MAX16 || b > MAX16)
      return err(
        'is not a valid standard community: each part must be 0-65535 (for 32-bit AS numbers use a large community "A:B:C")',
      );
    return ok({ type: "standard", parts: [a, b], text: `${a}:${b}` });
  }
  if (numbers.length === 3) {
    const [a, b, c] = numbers as [number, number, number];
    if (a > MAX32 || b > MAX32 || c > MAX32)
      return err("is not a valid large community: each part must be 0-4294967295");
    return ok({ type: "large", parts: [a, b, c], text: `${a}:${b}:${c}` });
  }
  return err(shape);
}

/** Whether an advertise.communities entry is a literal value (else it names a community). */
export const isCommunityValue = (s: string): boolean => s.includes(":");

/**
 * advertise.communities → community values: names looked up in `named` (spec.communities),
 * literals parsed; duplicates (by value) dropped. Every entry that does not resolve is an error
 * text (`"x": …`) and is left out; the rest still resolve.
 */
export function resolveCommunities(
  refs: readonly string[],
  named: readonly { name: string; value: string }[],
): { communities: Community[]; problems: string[] } {
  const byName = new Map(named.map((c) => [c.name, c.value]));
  const communities: Community[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const ref of refs) {
    const value = isCommunityValue(ref) ? ref : byName.get(ref);
    if (value === undefined) {
      const known = [...byName.keys()].sort().join(", ") || "none";
      problems.push(
        `${JSON.stringify(ref)} is not a community: no community of that name in spec.communities (known: ${known}); use a name or a value "A:B"`,
      );
      continue;
    }
    const parsed = parseCommunity(value);
    if (!parsed.ok) {
      problems.push(`${JSON.stringify(ref)}: ${JSON.stringify(value)} ${parsed.error}`);
      continue;
    }
    if (seen.has(parsed.value.text)) continue;
    seen.add(parsed.value.text);
    communities.push(parsed.value);
  }
  return { communities, problems };
}

// ---- the configuration in force -----------------------------------------------------------------

/** The BGPConfiguration named default with defaults applied and communities resolved. */
export interface EffectiveBgpConfiguration {
  asNumber: number;
  listenPort: number;
  /** Pool names whose egress IPs are announced; undefined = every pool with allowedUses EgressGateway. */
  ipPools: readonly string[] | undefined;
  /** Attached to every announcement, in the order given, without duplicates. */
  communities: readonly Community[];
  bfd: { minIntervalMs: number; multiplier: number };
  /** advertise.communities entries that did not resolve (left out above): for logs and status. */
  problems: readonly string[];
}

/**
 * The BGP configuration in force: from the BGPConfiguration named "default", or undefined (BGP
 * off) when there is none or it has `enabled: false`. Other names are ignored.
 */
export function effectiveBgpConfiguration(
  configs: readonly BGPConfiguration[],
): EffectiveBgpConfiguration | undefined {
  const found = configs.find((c) => c.metadata.name === BGP_CONFIGURATION_NAME);
  if (!found) return undefined;
  const spec = applyDefaults("BGPConfiguration", found).spec ?? {};
  const d = DEFAULTS.bgpConfiguration;
  if ((spec.enabled ?? d.enabled) === false) return undefined;
  const pools = spec.advertise?.ipPools;
  const { communities, problems } = resolveCommunities(
    spec.advertise?.communities ?? [],
    spec.communities ?? [],
  );
  return {
    asNumber: spec.asNumber ?? d.asNumber,
    listenPort: spec.listenPort ?? d.listenPort,
    ipPools: pools && pools.length > 0 ? [...pools] : undefined,
    communities,
    bfd: {
      minIntervalMs: spec.bfd?.minIntervalMs ?? d.bfd.minIntervalMs,
      multiplier: spec.bfd?.multiplier ?? d.bfd.multiplier,
    },
    problems,
  };
}

/** Whether the egress IPs of `pool` are announced under `config`. */
export function announcesPool(config: EffectiveBgpConfiguration, pool: IPPool): boolean {
  const uses = pool.spec.allowedUses ?? DEFAULTS.ipPool.allowedUses;
  if (!(uses as readonly string[]).includes("EgressGateway")) return false;
  return config.ipPools === undefined || config.ipPools.includes(pool.metadata.name);
}

// ---- peers ----------------------------------------------------------------------------------

/** Addresses of a node (InternalIP, ExternalIP): a node never peers with itself. */
const nodeAddresses = (node: Node): Set<string> =>
  new Set(
    (node.status?.addresses ?? [])
      .filter((a) => a.type === "InternalIP" || a.type === "ExternalIP")
      .map((a) => a.address),
  );

/** Whether `peer` selects `node` by spec.node or spec.nodeSelector (neither = every node). */
export function peerSelectsNode(peer: BGPPeer, node: Node): boolean {
  const { node: name, nodeSelector } = peer.spec;
  if (name !== undefined) return name === node.metadata.name;
  if (nodeSelector === undefined) return true;
  const selector = parseSelector(nodeSelector);
  // A selector that does not parse was rejected at apply; one stored anyway selects nothing.
  return selector.ok && selector.value.matches(node.metadata.labels ?? {});
}

/**
 * The BGPPeers `node` opens sessions with, by name, with defaults applied (bfd, holdTimeSeconds):
 * those that select it, except a peer whose peerIP is the node's own address.
 */
export function peersForNode(peers: readonly BGPPeer[], node: Node): BGPPeer[] {
  const own = nodeAddresses(node);
  return peers
    .filter((p) => peerSelectsNode(p, node) && !own.has(p.spec.peerIP))
    .map((p) => applyDefaults("BGPPeer", p))
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
}

// ---- firewall feeds -------------------------------------------------------------------------

/**
 * Whether a FirewallFeed covers an EgressGateway: its selector matches the gateway's labels and
 * its namespaceSelector (absent = all()) the labels of the gateway's Namespace. A selector that
 * does not parse (rejected at apply; stored anyway) covers nothing.
 */
export function feedSelectsGateway(
  feed: FirewallFeed,
  gateway: EgressGateway,
  namespaceLabels: Readonly<Record<string, string>>,
): boolean {
  const selector = parseSelector(feed.spec.selector);
  const nsSelector = parseSelector(feed.spec.namespaceSelector ?? DEFAULTS.firewallFeed.namespaceSelector);
  return (
    selector.ok &&
    nsSelector.ok &&
    selector.value.matches(gateway.metadata.labels ?? {}) &&
    nsSelector.value.matches(namespaceLabels)
  );
}

/** The longest publishDelaySeconds of the feeds that cover `gateway` (0 when none does). */
export function publishDelayFor(
  feeds: readonly FirewallFeed[],
  gateway: EgressGateway,
  namespaceLabels: Readonly<Record<string, string>>,
): number {
  let delay = 0;
  for (const f of feeds)
    if (feedSelectsGateway(f, gateway, namespaceLabels))
      delay = Math.max(delay, f.spec.publishDelaySeconds ?? DEFAULTS.firewallFeed.publishDelaySeconds);
  return delay;
}

// ---- secrets --------------------------------------------------------------------------------

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Whether `s` is standard padded base64, as a Secret's data values must be. */
export const isBase64 = (s: string): boolean => BASE64.test(s);

/**
 * The value of `ref` among `secrets` (only those in SECRET_NAMESPACE count): stringData wins over
 * data (base64, decoded as UTF-8), as Kubernetes merges them. The error names the Secret and key.
 */
export function secretValue(secrets: readonly Secret[], ref: SecretKeyRef): Result<string, string> {
  const secret = secrets.find(
    (s) => s.metadata.name === ref.name && s.metadata.namespace === SECRET_NAMESPACE,
  );
  const where = `Secret ${SECRET_NAMESPACE}/${ref.name}`;
  if (!secret) return err(`${where} does not exist`);
  const plain = secret.stringData?.[ref.key];
  if (plain !== undefined) return ok(plain);
  const encoded = secret.data?.[ref.key];
  if (encoded === undefined) {
    const keys = new Set([...Object.keys(secret.data ?? {}), ...Object.keys(secret.stringData ?? {})]);
    return err(
      `${where} has no key ${JSON.stringify(ref.key)} (keys: ${[...keys].sort().join(", ") || "none"})`,
    );
  }
  if (!isBase64(encoded)) return err(`${where} key ${JSON.stringify(ref.key)} is not valid base64`);
  return ok(Buffer.from(encoded, "base64").toString("utf8"));
}

/** Linux's limit on a TCP MD5 key (TCP_MD5SIG_MAXKEYLEN). */
export const BGP_PASSWORD_MAX_BYTES = 80;

/** Why a value cannot be a password, or undefined: BIRD's config strings cannot hold `"` or line breaks. */
function passwordProblem(pw: string): string | undefined {
  if (pw === "") return "is empty";
  // eslint-disable-next-line no-control-regex
  if (/["\u0000-\u001f\u007f]/.test(pw))
    return "contains a double quote or a control character (BIRD's configuration cannot hold them)";
  if (Buffer.byteLength(pw) > BGP_PASSWORD_MAX_BYTES)
    return `is longer than ${BGP_PASSWORD_MAX_BYTES} bytes (the kernel's TCP MD5 key limit)`;
  return undefined;
}

/**
 * The TCP MD5 password of a BGP session: undefined when the peer has none, an error (naming the
 * peer, Secret and key, never the value) when its Secret or key is missing or the value cannot be
 * a password — the caller must then not open the session without it.
 */
export function bgpPassword(peer: BGPPeer, secrets: readonly Secret[]): Result<string | undefined, string> {
  const ref = peer.spec.password?.secretKeyRef;
  if (ref === undefined) return ok(undefined);
  const where = `BGPPeer ${peer.metadata.name}: spec.password`;
  const value = secretValue(secrets, ref);
  if (!value.ok) return err(`${where}: ${value.error}`);
  const problem = passwordProblem(value.value);
  if (problem !== undefined)
    return err(
      `${where}: the value of Secret ${SECRET_NAMESPACE}/${ref.name} key ${JSON.stringify(ref.key)} ${problem}`,
    );
  return value;
}
