import { defineConfig } from "vitest/config";

export default defineConfig({
  // As in the test build (vite.config.ts's TEST_HOOKS_MODE): code under test sees the ?test=1 hooks compiled in.
  define: { __OPEN_SWARM_TEST_HOOKS__: "true" },
  test: {
    include: ["tests/unit/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
