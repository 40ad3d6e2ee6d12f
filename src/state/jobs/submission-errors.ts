import type { z } from "zod";
import { MAX_MAX_ITER } from "../../core/protocol/jobs.ts";

/**
 * A submission the schema refused, said for people: which input is wrong and why, in the words of the form
 * ("the matrix file is empty"), never zod's own text with its field paths ("✖ Too small … → at
 * matrix.text"). The code stays "invalid_spec"; the dashboard shows it small, once.
 */
export function submissionIssueText(issue: z.core.$ZodIssue, maxRhs: number): string {
  const [first, second, third] = issue.path;
  switch (first) {
    case "name":
      return issue.code === "too_big"
        ? "the job name is longer than 200 characters"
        : "the job needs a name (or leave it empty to use the matrix's)";
    case "kind":
      return "the job kind must be one solve, several right-hand sides, or a distributed solve";
    case "matrix":
      if (second === "text") return "the matrix file is empty";
      if (second === "name") return "choose a generated system";
      return "choose a matrix: a generated system or a Matrix Market (.mtx) file";
    case "rhs":
      if (second === "texts" && typeof third === "number")
        return `right-hand side file ${third + 1} is empty`;
      if (second === "texts") return `upload 1 to ${maxRhs} right-hand side files`;
      if (second === "count")
        return `the number of random right-hand sides must be an integer from 1 to ${maxRhs}`;
      if (second === "seed") return "the random seed must be an integer from 0 to 4294967295";
      return "choose the right-hand sides: b = A·1, random, or uploaded files";
    case "method":
      return "choose a solver method from the list";
    case "tol":
      return "the tolerance must be a number above 0 and at most 1 (e.g. 1e-8)";
    case "maxIter":
      return `the iteration limit must be an integer from 1 to ${MAX_MAX_ITER.toLocaleString("en")}`;
    case "blocks":
      return "row blocks must be an integer of at least 2";
    default:
      return "the submission is not valid";
  }
}
