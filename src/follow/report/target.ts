// Whether a run carries what reporting needs: a trigger whose payload lacked a repository or commit
// (statusSkipped) wrote none of it, and such a run is followed for keep and concurrency only.
import { STATUS_COMMIT, STATUS_REPOSITORY } from '../../pipeline/follow-stamp.js';
import type { RunView } from '../run-state.js';

export function hasStatusTarget(run: RunView): boolean {
  return run.annotations[STATUS_COMMIT] !== undefined && run.annotations[STATUS_REPOSITORY] !== undefined;
}
