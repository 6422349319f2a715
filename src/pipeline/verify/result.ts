// What a verifier answers. A bad signature is a value with a reason (the HTTP edge turns it into 401), never an
// exception: an exception means a bug.

export type VerifyResult =
  | {
      ok: true;
      /** The delivery id the signature covers (Standard Webhooks' webhook-id), when the scheme signs one. */
      signedId?: string;
    }
  | {
      ok: false;
      message: string;
      /** No configured secret could be read: the gateway's misconfiguration, not the sender's fault (503). */
      unavailable?: true;
    };

export const VERIFIED: VerifyResult = Object.freeze({ ok: true });

/** A refusal. The message names the header at fault and never contains a secret or an expected signature. */
export function refuse(message: string): { ok: false; message: string } {
  return { ok: false, message };
}

/** "the configured secret" or "any of the 2 configured secrets", for mismatch messages. */
export function configuredSecrets(count: number, noun = 'secret'): string {
  return count === 1 ? `the configured ${noun}` : `any of the ${count} configured ${noun}s`;
}
