// Issue #13's gateway keys: defaults, and the two rules between them (contract §2, §12.0 item 13).
import { describe, expect, it } from 'vitest';
import { loadConfigBytes } from '../../src/config/load.js';

const load = (gateway: string) =>
  loadConfigBytes(
    Buffer.from(`apiVersion: tekton-gateway/v1
${gateway}
routes:
  - path: /a
    provider: none
    triggers:
      - name: t
        template:
          resourcetemplates:
            - {apiVersion: tekton.dev/v1, kind: TaskRun, metadata: {generateName: t-}, spec: {taskRef: {name: t}}}
`),
    'routes.yaml',
  );

describe('gateway.maxBytesInFlight, bodyTimeoutMs, maxBodyValues, maxValueBytes', () => {
  it('default to 64 MiB, 5 s, 1,000,000 and 1 MiB', () => {
    const result = load('');
    expect(result.ok && result.config.gateway).toMatchObject({
      maxBytesInFlight: 64 * 1024 * 1024,
      bodyTimeoutMs: 5000,
      maxBodyValues: 1_000_000,
      maxValueBytes: 1024 * 1024,
    });
  });

  it('an unset bodyTimeoutMs yields to a short requestTimeoutMs', () => {
    const result = load('gateway: {requestTimeoutMs: 3000}');
    expect(result.ok && result.config.gateway.bodyTimeoutMs).toBe(1500);
  });

  it.each([
    [
      'maxBytesInFlight below maxBodyBytes',
      'gateway: {maxBodyBytes: 2000, maxBytesInFlight: 1000}',
      'maxBytesInFlight (1000) must be at least maxBodyBytes (2000)',
    ],
    [
      'bodyTimeoutMs not below requestTimeoutMs',
      'gateway: {bodyTimeoutMs: 3000, requestTimeoutMs: 3000}',
      'bodyTimeoutMs (3000) must be less than requestTimeoutMs (3000)',
    ],
    ['a zero maxValueBytes', 'gateway: {maxValueBytes: 0}', ''],
  ])('refuses %s, with its location', (_name, gateway, message) => {
    const result = load(gateway);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.problems.join('\n')).toMatch(
      new RegExp(`^routes\\.yaml:2:\\d+: gateway\\.\\w+: .*${message.replace(/[()]/g, '\\$&')}`, 'm'),
    );
  });
});
