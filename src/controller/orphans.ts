// Orphans (pure): replica pods and IP allocations whose EgressGateway no longer exists.
import { gatewayKey, type AllocationView } from "./views.js";

export interface OrphansInput {
  /** Keys (`namespace/name`) of the gateways that exist. */
  gateways: ReadonlySet<string>;
  /** Every pod that carries an owner annotation, with its owner key. */
  replicaPods: readonly { namespace: string; name: string; owner: string }[];
  allocations: readonly AllocationView[];
}

export interface Orphans {
  pods: { namespace: string; name: string; owner: string }[];
  allocations: AllocationView[];
}

export const findOrphans = (input: OrphansInput): Orphans => ({
  // A pod outside its owner's namespace was not made by the controller: left alone.
  pods: input.replicaPods.filter(
    (p) => !input.gateways.has(p.owner) && p.owner.startsWith(`${p.namespace}/`),
  ),
  allocations: input.allocations.filter(
    (a) => !input.gateways.has(gatewayKey(a.owner.namespace, a.owner.gateway)),
  ),
});
