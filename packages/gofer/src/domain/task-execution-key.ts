/**
 * Identifies one task execution everywhere it lives: its row, its log file, its container's labels. Snake case,
 * as in stored rows and v0's route parameters, so a stored execution or a request's params serve as a key as
 * they are.
 */
export interface TaskExecutionKey {
  namespace_id: string;
  pipeline_id: string;
  run_id: number;
  task_id: string;
}
