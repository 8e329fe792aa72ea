/**
 * The memory of each pipeline function, in MB: the stack deploys them with these sizes
 * (infra/constructs/pipeline-functions.ts) and `sluice cost` prices their GB-seconds with the same
 * figures, so the two cannot drift apart.
 */
export const FUNCTION_MEMORY_MB = {
  ingest: 512,
  validate: 1024,
  promote: 512,
  recordRun: 256,
} as const;
