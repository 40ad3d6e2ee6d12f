import { defineConfig } from "vitest/config";

export default defineConfig({
  // As in vite.config.ts's default build: code under test sees the ?test=1 hooks compiled in.
  define: { __OPEN_SWARM_TEST_HOOKS__: "true" },
  test: {
    include: ["tests/unit/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
