/**
 * What the volunteer runtime asks of an injected fault: a volunteer that lies on purpose, to prove the
 * requester never accepts a wrong answer. The product never builds one: the page's test code injects
 * fault-injection.ts's under ?test=1&fault=..., unit tests their own. Without one (the default) the runtime
 * reports the solver's answer untouched.
 */
export interface VolunteerFault {
  /** A corrupted copy of the solution. */
  corrupt(x: Float64Array): Float64Array;
}
