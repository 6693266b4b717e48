// IPAM: egress IPs for gateway replicas.
export * from "./ip-math.js";
export * from "./pools.js";
export * from "./allocator.js";
