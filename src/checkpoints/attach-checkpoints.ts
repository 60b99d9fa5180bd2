import type { CheckpointSettings } from '../core/config.ts';
import type { Logger } from '../logging/logger.ts';
import type { SandboxManager } from '../sandbox/sandbox-manager.ts';
import { CheckpointKeeper } from './checkpoint-keeper.ts';
import type { CheckpointStore } from './checkpoint-store.ts';

/**
 * A keeper for `manager`'s sessions: it finds their sandboxes there, and the manager asks it
 * to save a session before reaping its kernel or closing (a worker draining).
 */
export function attachCheckpoints(
  manager: SandboxManager,
  store: CheckpointStore,
  settings: CheckpointSettings,
  logger: Logger,
): CheckpointKeeper {
  const keeper = new CheckpointKeeper({
    store,
    settings,
    sandboxOf: (sessionId) => manager.find(sessionId),
    logger: logger.child({ component: 'checkpoints' }),
  });
  manager.beforeRetire = (sessionId) => keeper.beforeRetire(sessionId);
  return keeper;
}
