import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Several suites start real servers and child processes on loopback; the machines have 2 cores.
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
