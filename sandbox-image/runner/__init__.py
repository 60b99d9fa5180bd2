"""sandbot's sandbox runner: a persistent IPython kernel speaking newline-delimited JSON.

It is the main process of every sandbox container (`python3 -P -m runner`, under Docker's
init). The protocol is specified in docs/sandbox-protocol.md; in short: requests arrive on
the container's stdin, events leave on its stdout, and both are private descriptors
duplicated at start-up, so nothing user code prints (not even a subprocess writing to fd 1)
can corrupt a frame.

User code runs in this very process, so the runner's own machinery defends itself: every
request is handled inside a try/except, SIGINT cannot cut a frame in half, and whatever goes
wrong, each `execute` ends with exactly one `done`.

Importing any module of this package has no side effects (no descriptor, signal, thread or
heavy import); `__main__` performs the boot, in order. The modules fall on two sides, so
that they can later run as two processes:

- protocol side: `frames` (encoding, the one writer), `requests` (reading and dispatching
  requests), `descriptors` (who owns which fd), `diagnostics`;
- kernel side: `capture` and `cell` (fds 1 and 2 as `stream` events, within a budget),
  `data_stack`, `shell`, `display_hooks`, `outputs`, `bundles`, `figures`, `files`,
  `execute`, `interrupts`, `process`;
- files across the boundary, read and written with the sandbox user's privilege and never
  through a symlink: `copy_out` (`read_file`), `copy_in` (`write_file`).
"""
