// The resource shapes calc reads: structural subsets of the api/ types (any Pod, Namespace…
// object from the datastore fits), so calc depends on no schema module and does no I/O.

export interface MetaInput {
  readonly name: string;
  readonly namespace?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  /** Kubernetes sets it when deletion starts; the lab uses ANN_GATEWAY_TERMINATING instead. */
  readonly deletionTimestamp?: string;
}

export interface NodeInput {
  readonly metadata: MetaInput;
  readonly status?: { readonly addresses?: readonly { readonly type: string; readonly address: string }[] };
}

export interface NamespaceInput {
  readonly metadata: MetaInput;
}

export interface PodInput {
  readonly metadata: MetaInput;
  readonly spec?: { readonly nodeName?: string };
  readonly status?: { readonly phase?: string; readonly podIP?: string; readonly hostInterface?: string };
}

export interface PolicyRuleInput {
  readonly description?: string;
  readonly destination?: { readonly cidr?: string };
  readonly gateway?: {
    readonly selector?: string;
    readonly namespaceSelector?: string;
    readonly maxNextHops?: number;
  };
  readonly gatewayPreference?: string;
}

export interface EgressGatewayPolicyInput {
  readonly metadata: MetaInput;
  readonly spec?: { readonly rules?: readonly PolicyRuleInput[] };
}

export interface IPPoolInput {
  readonly metadata: MetaInput;
  readonly spec?: { readonly cidr?: string; readonly allowedUses?: readonly string[] };
}

/** "<namespace>/<name>": the key of a namespaced object. */
export const podKey = (namespace: string, name: string): string => `${namespace}/${name}`;
export const podKeyOf = (pod: PodInput): string =>
  podKey(pod.metadata.namespace ?? "default", pod.metadata.name);
