/**
 * How far a step has read, for a progress line (`sluice run`, `sluice validate`). One shape for
 * every reader, extraction and validation alike, so that a listener written for one cannot be
 * handed something else by another: every port that carries a listener names this type.
 */
export interface Progress {
  rowsRead: number;
  bytesRead: number;
}

export type ProgressListener = (progress: Progress) => void;
