/**
 * What each figure should reach on this machine, as printed beside it by `npm run bench` and
 * drawn as a dashed line by `npm run bench:report` ("target < 50" is read as a number there;
 * a target in words is printed only).
 */
export const TARGETS: Readonly<Record<string, string>> = {
  warm_vs_jupyter_ratio: 'target <= 3',
  plot_vs_jupyter_plot_ratio: 'target <= 1',
  docker_run_vs_new_session_ratio: 'target >= 7',
  idle_session_memory_mb: 'target <= 50',
  idle_session_no_plot_memory_mb: 'target <= 50',
  copy_out_vs_archive_ratio: 'target <= 2',
  queue_cell_p50_ms: 'target < 10',
  queue_overhead_p50_ms: 'target < 3',
  steady_first_cell_p95_ms: 'target < 50',
  burst_first_cell_p95_ms: 'target < 1000',
  gvisor_vs_runc_warm_cell_ratio: 'target <= 1.5',
  gvisor_vs_runc_first_cell_ratio: 'target <= 1.5',
  gvisor_vs_runc_plot_ratio: 'target <= 1.5',
  turn_redis_added_p50_ms: 'target < 3',
  turn_sqlite_added_p50_ms: 'target < 3',
  resume_after_kill_s: 'target < 30',
  bot_share_p50_ms: 'target < 15',
  first_answer_token_visible_p50_ms: 'target < the edit interval',
};
