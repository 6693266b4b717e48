// Fault injection for end-to-end tests: a Runner whose `nft -f` loads the kernel refuses, to
// check that a failed load is returned as a value and leaves the previous ruleset in force.
import { NODE_NFT_TABLE, POLICY_CHAIN } from "../config.js";
import type { Runner } from "../runner.js";

/** A rule naming a set that does not exist: nft rejects the whole transaction it is part of. */
const REFUSED = `add rule inet ${NODE_NFT_TABLE} ${POLICY_CHAIN} ip daddr @egw_no_such_set accept\n`;

/** `runner`, except that every `nft -f` load carries one rule the kernel refuses. */
export const nftLoadsRefused = (runner: Runner): Runner => ({
  where: runner.where,
  run: (argv, input) =>
    runner.run(argv, argv[0] === "nft" && argv[1] === "-f" ? `${input ?? ""}${REFUSED}` : input),
});
