import { describe, expect, it } from "vitest";
import { forward, initParams, paramTensors, zeroParams, type MoeShape } from "../../../scripts/models/moe.ts";
import { MoeGradient } from "../../../scripts/models/moe-grad.ts";
import { createRng } from "../../../scripts/models/rng.ts";

/** Central finite differences against the analytic backward pass, on a tiny model (float32 storage). */
describe("MoE backward pass", () => {
  const shape: MoeShape = { inputs: 12, experts: 4, hidden: 6, classes: 3, topK: 2 };
  const rows = 7;

  function setup(seed: number) {
    const rng = createRng(seed);
    // A gate large enough that the top-2 choice is not near a tie, so small steps do not re-route.
    const params = initParams(shape, rng, 0.8);
    for (const e of params.experts) for (let i = 0; i < e.b1.length; i++) e.b1[i] = 0.1 * rng.normal();
    const x = Float32Array.from({ length: rows * shape.inputs }, () => (rng.next() < 0.3 ? 0 : rng.next()));
    const labels = Uint8Array.from({ length: rows }, () => rng.int(shape.classes));
    return { params, x, labels };
  }

  it.each([
    ["cross-entropy only", 0],
    ["with the load-balancing loss", 0.5],
  ])("matches finite differences (%s)", (_label, aux) => {
    const { params, x, labels } = setup(7);
    const grads = zeroParams(shape);
    const gradient = new MoeGradient(shape, rows);
    const batch = Int32Array.from({ length: rows }, (_, i) => i);
    const loss = () => {
      const r = gradient.compute(params, zeroParams(shape), x, labels, batch, aux);
      return r.ce + r.aux;
    };
    const routing = () => forward(params, x, rows).chosen.join(",");
    gradient.compute(params, grads, x, labels, batch, aux);
    const analytic = paramTensors(grads);
    const tensors = paramTensors(params);
    const baseRouting = routing();
    const eps = 1e-3;
    let checked = 0;
    let nonZero = 0;
    tensors.forEach((t, ti) => {
      const stride = Math.max(1, Math.floor(t.length / 25));
      for (let i = 0; i < t.length; i += stride) {
        const saved = t[i]!;
        t[i] = saved + eps;
        const up = loss();
        const upRouting = routing();
        t[i] = saved - eps;
        const down = loss();
        const downRouting = routing();
        t[i] = saved;
        if (upRouting !== baseRouting || downRouting !== baseRouting) continue; // a top-k boundary: not smooth
        const numeric = (up - down) / (2 * eps);
        const a = analytic[ti]![i]!;
        expect(
          Math.abs(numeric - a),
          `tensor ${ti} index ${i}: numeric ${numeric}, analytic ${a}`,
        ).toBeLessThan(2e-3 + 2e-2 * Math.abs(a));
        checked++;
        if (Math.abs(a) > 1e-4) nonZero++;
      }
    });
    expect(checked).toBeGreaterThan(200);
    expect(nonZero).toBeGreaterThan(checked / 3);
  });

  it("the load-balancing gradient moves gate probability towards under-used experts", () => {
    const { params, x, labels } = setup(11);
    const gradient = new MoeGradient(shape, rows);
    const batch = Int32Array.from({ length: rows }, (_, i) => i);
    const ceOnly = zeroParams(shape);
    const withAux = zeroParams(shape);
    const r = gradient.compute(params, ceOnly, x, labels, batch, 0);
    gradient.compute(params, withAux, x, labels, batch, 1);
    // Gradient descent lowers a bias where the aux gradient is positive: that must be the busiest expert.
    const auxGrad = Array.from(withAux.gateB, (g, e) => g - ceOnly.gateB[e]!);
    const busiest = r.counts.indexOf(Math.max(...r.counts));
    expect(auxGrad[busiest]).toBeGreaterThan(0);
    const idlest = r.counts.indexOf(Math.min(...r.counts));
    expect(auxGrad[idlest]).toBeLessThan(auxGrad[busiest]!);
  });
});
