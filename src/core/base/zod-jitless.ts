import { z } from "zod";

/**
 * Imported first by every browser entry (the app and its workers). The server's Content-Security-Policy has
 * no 'unsafe-eval', so zod's JIT (schemas compiled with `new Function`) cannot run anyway; zod finds out by
 * calling `Function("")` once, which the browser blocks and reports as a CSP violation on every page load.
 * jitless skips that probe, so the violation reports (/api/v1/csp-report) stay meaningful.
 */
z.config({ jitless: true });
