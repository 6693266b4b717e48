// Which pools a gateway may take egress IPs from (pure).
import { err, ok, type Result } from "../util/result.js";
import { parseCidr, type Cidr } from "../util/ip.js";

/** The part of an IPPool the allocator needs (structural: no dependency on the api schemas). */
export interface IPPoolLike {
  metadata: { name: string };
  spec?: { cidr?: string; allowedUses?: string[] };
}

/** A gateway replica that holds (at most) one egress IP. */
export interface AllocationOwner {
  namespace: string;
  gateway: string;
  replica: string;
}

export type IpamErrorCode =
  "NoPools" | "PoolNotFound" | "PoolNotAllowed" | "PoolInvalid" | "Exhausted" | "Datastore";

export class IpamError extends Error {
  constructor(
    readonly code: IpamErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "IpamError";
  }
}

export interface UsablePool {
  name: string;
  cidr: Cidr;
}

export const EGRESS_GATEWAY_USE = "EgressGateway";

export const describeGateway = (o: { namespace: string; gateway: string }): string =>
  `EgressGateway ${o.namespace}/${o.gateway}`;

/**
 * Resolves the pools a gateway names (`refs`: pool names or CIDRs, in preference order) against
 * the known pools; without refs every given pool is a candidate. Every candidate must allow
 * EgressGateway use and have a valid CIDR.
 */
export const usablePools = (
  gateway: { namespace: string; gateway: string },
  pools: readonly IPPoolLike[],
  refs?: readonly string[],
): Result<UsablePool[], IpamError> => {
  const gw = describeGateway(gateway);
  const known = pools.map((p) => p.metadata.name).join(", ") || "none";
  let chosen: IPPoolLike[];
  if (refs === undefined) {
    chosen = [...pools];
  } else {
    chosen = [];
    for (const [i, ref] of refs.entries()) {
      const pool = pools.find((p) => p.metadata.name === ref) ?? pools.find((p) => p.spec?.cidr === ref);
      if (!pool) {
        return err(
          new IpamError(
            "PoolNotFound",
            `${gw}: spec.ipPools[${i}]: IPPool "${ref}" does not exist; known pools: ${known}`,
          ),
        );
      }
      if (!chosen.includes(pool)) chosen.push(pool);
    }
  }
  if (chosen.length === 0) {
    return err(
      new IpamError("NoPools", `${gw}: no IPPool to allocate an egress IP from; known pools: ${known}`),
    );
  }
  const usable: UsablePool[] = [];
  for (const pool of chosen) {
    const name = pool.metadata.name;
    const uses = pool.spec?.allowedUses ?? [];
    if (!uses.includes(EGRESS_GATEWAY_USE)) {
      return err(
        new IpamError(
          "PoolNotAllowed",
          `${gw}: IPPool "${name}" cannot be used for egress IPs: spec.allowedUses is ${JSON.stringify(uses)}, it must include "${EGRESS_GATEWAY_USE}"`,
        ),
      );
    }
    const text = pool.spec?.cidr ?? "";
    const cidr = parseCidr(text);
    if (!cidr.ok)
      return err(new IpamError("PoolInvalid", `${gw}: IPPool "${name}": spec.cidr: "${text}" ${cidr.error}`));
    usable.push({ name, cidr: cidr.value });
  }
  return ok(usable);
};
