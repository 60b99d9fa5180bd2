import type { Logger } from '../logging/logger.ts';
import type { CellEvent } from '../core/cell-events.ts';
import { formatBytes } from '../core/bytes.ts';
import { refusedPathsNotice } from '../core/file-names.ts';
import { isSafeRelativePath } from './file-transfer.ts';
import type { KernelContainer } from './kernel-container.ts';
import { truncationNotice, type OutputBudget } from './output-budget.ts';
import type { DoneFrame } from './protocol.ts';
import type { SandboxLimits } from './sandbox.ts';

export interface CollectOptions {
  readonly kernel: Pick<KernelContainer, 'getFile'>;
  readonly limits: SandboxLimits;
  readonly logger: Logger;
  readonly emit: (event: CellEvent) => void;
}

/**
 * After the runner said a cell is done: the truncation notice, then the files it produced,
 * copied out within the caps on count and size (what is left out is named in a notice).
 * `budget` holds what the worker's own bounds dropped on top of what the runner reports.
 * The runner's list is only a hint: each path is fetched at most once, at most `maxFiles` of
 * them, and each copy stops at `maxFileBytes` whatever size the list claimed, so a cell
 * brings out at most maxFiles × maxFileBytes. The runner itself reads each file with the
 * sandbox user's privilege (KernelContainer.getFile): a path it names is never read as root.
 */
export async function collectCellOutputs(
  frame: DoneFrame,
  budget: Pick<OutputBudget, 'droppedBytes' | 'droppedOutputs'>,
  options: CollectOptions,
): Promise<void> {
  const { kernel, limits, emit } = options;
  const notice = truncationNotice(
    frame.truncatedBytes + budget.droppedBytes,
    (frame.droppedOutputs ?? 0) + budget.droppedOutputs,
    limits.outputLimitBytes,
  );
  if (notice !== undefined) emit({ type: 'notice', text: notice });
  const refused = refusedPathsNotice(
    frame.files.map((f) => f.path).filter((path) => !isSafeRelativePath(path)),
  );
  if (refused !== undefined) emit({ type: 'notice', text: refused });
  const paths = new Set<string>();
  const candidates = frame.files
    .filter((f) => isSafeRelativePath(f.path) && !paths.has(f.path) && paths.add(f.path))
    .sort((a, b) => a.path.localeCompare(b.path));
  const taken = candidates.slice(0, limits.maxFiles);
  if (candidates.length > taken.length) {
    emit({
      type: 'notice',
      text: `${candidates.length - taken.length} more files were not sent (limit ${limits.maxFiles} per cell); they are still in /mnt/data.`,
    });
  }
  for (const [index, file] of taken.entries()) {
    if (file.size > limits.maxFileBytes) {
      emit({
        type: 'notice',
        text: `${file.path} was not sent: it is ${formatBytes(file.size)}, over the ${formatBytes(limits.maxFileBytes)} limit.`,
      });
      continue;
    }
    try {
      const fetched = await kernel.getFile(file.path, limits.maxFileBytes);
      if (fetched.kind === 'file') {
        emit({ type: 'file', path: file.path, content: fetched.content });
      } else {
        emit({ type: 'notice', text: `${file.path} was not sent: ${fetched.reason}.` });
      }
    } catch (error) {
      options.logger.warn({ err: error, path: file.path }, 'could not copy a file out');
      // The runner stopped answering or is gone: asking for the rest would only wait again.
      const rest = taken.length - index - 1;
      const more = rest > 0 ? ` nor ${rest} more file(s); they are still in /mnt/data` : '';
      emit({ type: 'notice', text: `${file.path} could not be copied out of the sandbox${more}.` });
      return;
    }
  }
}
