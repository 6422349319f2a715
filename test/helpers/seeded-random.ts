// mulberry32: a small seeded PRNG, so a chaos run's faults and bodies, or a benchmark's open-model schedule,
// are the same in every run. Shared by test/integration/chaos.test.ts and bench/.

export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
