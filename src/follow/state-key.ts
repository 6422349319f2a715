// The state key (contract §12.0 item 3): the bytes of --state-key-file with one trailing newline removed.
// It signs every run the gateway creates; without it, following runs is off (§12 needs proof of origin).
import { readFileSync } from 'node:fs';

export type StateKey =
  { readonly ok: true; readonly key: Buffer } | { readonly ok: false; readonly why: string };

export function readStateKey(file: string | undefined): StateKey {
  if (!file) return { ok: false, why: 'no --state-key-file (STATE_KEY_FILE) given' };
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    return {
      ok: false,
      why: `cannot read the state key file ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
    };
  }
  let end = bytes.length;
  if (end > 0 && bytes[end - 1] === 0x0a) end--;
  if (end > 0 && bytes[end - 1] === 0x0d && end === bytes.length - 1) end--;
  const key = bytes.subarray(0, end);
  // A short key would make the signature guessable; 16 bytes is the floor HMAC-SHA256 guidance sets.
  if (key.length < 16) return { ok: false, why: `the state key file ${file} holds fewer than 16 bytes` };
  return { ok: true, key: Buffer.from(key) };
}
