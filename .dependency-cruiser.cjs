// The project's layers, enforced in `npm run lint` (docs/ARCHITECTURE.md explains them and why).
// Imports run downward only: a file may import its own layer and the layers below it, never one above.

/** src/core's layers, lowest first. jobs and experts share a rank: neither may import the other. */
const CORE_LAYERS = [
  ["base"],
  ["formats"],
  ["protocol"],
  ["identity"],
  ["env"],
  ["net"],
  ["sparse"],
  ["solver"],
  ["distributed"],
  ["trust"],
  ["jobs", "experts"],
  ["storage"],
];

/**
 * The tiers around the core, lowest first: what a tier may not import is every tier above it. kernels (the
 * wasm and WebGPU compute backends) sit between the core and the workers: the solver worker, the CLI,
 * benches and tests all load them.
 */
const OUTER_TIERS = [
  { name: "core", path: "^src/core/" },
  { name: "kernels", path: "^kernels/" },
  { name: "workers", path: "^workers/" },
  { name: "state", path: "^src/state/" },
  { name: "app", path: "^src/app/" },
];

const coreUpward = CORE_LAYERS.flatMap((rank, i) => {
  const above = CORE_LAYERS.slice(i + 1).flat();
  return rank.map((layer) => ({
    name: `core-${layer}-imports-downward`,
    comment: `src/core/${layer} may import only the layers below it (${CORE_LAYERS.slice(0, i).flat().join(", ") || "none"})${rank.length > 1 ? ` and not its peer ${rank.filter((l) => l !== layer).join(", ")}` : ""}.`,
    severity: "error",
    from: { path: `^src/core/${layer}/` },
    to: { path: `^src/core/(${[...above, ...rank.filter((l) => l !== layer)].join("|")})/` },
  }));
}).filter((rule) => !rule.to.path.endsWith("()/"));

const outerUpward = OUTER_TIERS.slice(0, -1).map((tier, i) => ({
  name: `${tier.name}-imports-downward`,
  comment: `${tier.name} may not import ${OUTER_TIERS.slice(i + 1)
    .map((t) => t.name)
    .join(", ")}.`,
  severity: "error",
  from: { path: tier.path },
  to: {
    path: OUTER_TIERS.slice(i + 1)
      .map((t) => t.path)
      .join("|"),
  },
}));

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      comment: "No file cycle anywhere: break it at the idea that belongs lower.",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    ...coreUpward,
    ...outerUpward,
    {
      name: "core-is-environment-free",
      comment: "src/core runs in tabs, workers and Node alike: no app, state, CLI, Node-only or server code.",
      severity: "error",
      from: { path: "^src/core/" },
      to: { path: "^(src/(app|state|cli|node)|signaling|bench|scripts|e2e|tests)/" },
    },
    {
      name: "kernels-import-core-only",
      comment: "The kernels run in workers and in Node alike: besides themselves, only src/core.",
      severity: "error",
      from: { path: "^kernels/" },
      to: { path: "^(src|workers|signaling|bench|scripts|e2e|tests)/", pathNot: "^src/core/" },
    },
    {
      name: "product-does-not-import-tests",
      comment: "Product code never imports tests, benches, scripts or e2e helpers.",
      severity: "error",
      from: { path: "^(src|kernels|workers|signaling)/" },
      to: { path: "^(tests|e2e|bench|scripts)/" },
    },
    {
      name: "signaling-uses-the-wire-only",
      comment: "The server shares only the wire (base, protocol, identity) with the peers.",
      severity: "error",
      from: { path: "^signaling/" },
      to: { path: "^(src|kernels|workers)/", pathNot: "^src/core/(base|protocol|identity)/" },
    },
    {
      name: "api-sits-on-top",
      comment:
        "The solve API (api/) is mounted by the server's process entry: it may import the core's solver layers, the kernels, signaling and the Node peers (its swarm requester), and nothing below may import it.",
      severity: "error",
      from: { path: "^(src|kernels|workers|signaling)/" },
      to: { path: "^api/" },
    },
    {
      name: "api-imports-core-kernels-signaling",
      comment:
        "api/ runs in the server process: no app, state, CLI, worker, bench or test code. It may use the Node peers (src/node: its swarm requester joins as one).",
      severity: "error",
      from: { path: "^api/" },
      to: { path: "^(src/(app|state|cli)|workers|bench|scripts|e2e|tests)/" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "(^|/)(node_modules|dist|dist-test|public)/|\\.d\\.ts$|/assembly/" },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { extensions: [".ts", ".tsx", ".mts", ".js", ".mjs"] },
  },
};
