import type { FromWorker } from "../../protocol/distributed.ts";
import type { SolvedRhs } from "../../protocol/rhs-solution.ts";

/**
 * What the volunteer runtime asks of an injected fault: a volunteer that lies on purpose, to prove the
 * requester never accepts a wrong answer and blames the liar. The product never builds one: the page's
 * test code injects fault-injection.ts's under ?test=1&fault=..., unit tests their own. Without one (the
 * default) the runtime reports the solver's answer untouched.
 */
export interface VolunteerFault {
  /** The solution (x and its claims) as this liar reports it in place of the solver's. */
  corrupt(solved: SolvedRhs): SolvedRhs;
  /** A distributed block's reply as this liar sends it (absent: its blocks are honest). */
  corruptBlockReply?(reply: FromWorker): FromWorker;
}
