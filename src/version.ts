// The package version, read from the package.json beside dist/ (in a clone, an npm install and the image
// alike), so `tekton-gateway --version` can never disagree with what was built.
import { readFileSync } from 'node:fs';

export function packageVersion(): string {
  const text = readFileSync(new URL('../package.json', import.meta.url), 'utf8');
  const { version } = JSON.parse(text) as { version?: unknown };
  if (typeof version !== 'string') throw new Error('package.json has no version');
  return version;
}
