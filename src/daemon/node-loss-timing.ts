// The timing contract between node leases, the controller's node-lost time and gateway fencing
// (pure; docs/gateways.md "Node loss and fencing" has the argument). A partitioned node's lease was
// renewed at most one renewal period before the cut, so the controller declares it lost no earlier
// than nodeLost − renew after the cut; its replicas stopped SNATing fenceAfter (plus one fence
// tick and the teardown) after their last good check, which was before the cut. So fencing wins the
// race when fenceAfter < nodeLost − renew, and the margin is what is left of that difference.

/** Seconds between an agent's lease renewals. */
export const LEASE_RENEW_SECONDS = 2;
/** A node whose lease is not renewed this long (controller clock) is lost. */
export const DEFAULT_NODE_LOST_SECONDS = 10;
/** A gateway that could not read its own pod this long withdraws its SNAT and egress IP. */
export const DEFAULT_FENCE_AFTER_SECONDS = 5;

/** Why these settings would let a stale replica still SNAT when its IP is reused; undefined when safe. */
export const fenceTimingProblem = (fenceAfterSeconds: number, nodeLostSeconds: number): string | undefined =>
  fenceAfterSeconds < nodeLostSeconds - LEASE_RENEW_SECONDS
    ? undefined
    : `fence-after ${fenceAfterSeconds} s must be below node-lost ${nodeLostSeconds} s − ${LEASE_RENEW_SECONDS} s ` +
      `(the lease renewal period): otherwise a partitioned replica may still SNAT when its egress IP is reused`;
