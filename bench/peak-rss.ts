import { readFileSync } from 'node:fs';

/**
 * This process's peak resident set, bytes: VmHWM from /proc/self/status, the high-water mark of
 * its own address space, which starts afresh at exec. Not `process.resourceUsage().maxRSS`: Linux
 * keeps ru_maxrss across execve, so a process the bench spawns would report at least the size the
 * bench had when it spawned it. Falls back to maxRSS where /proc is not there.
 */
export function peakRssBytes(): number {
  try {
    const kib = /VmHWM:\s*(\d+)\s*kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    if (kib !== undefined) return Number(kib) * 1024;
  } catch {
    // No procfs: the kernel's maxRSS is the best there is.
  }
  return process.resourceUsage().maxRSS * 1024;
}
