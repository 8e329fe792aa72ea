/**
 * The peak memory of a spawned `node` process, as the process reports it on exit: pass
 * `['--import', REPORT_PEAK_RSS, …]` to node, then read the figure from its stderr.
 *
 * It is VmHWM from /proc/self/status, the high-water mark of the process's own address space,
 * which starts afresh at exec. Not `process.resourceUsage().maxRSS`: Linux keeps ru_maxrss across
 * execve, so a child that a large test worker spawns would report at least the worker's size.
 */
const reporter = [
  'import{readFileSync}from"node:fs";',
  'process.on("exit",()=>{',
  'let kib;',
  'try{kib=Number(/VmHWM:\\s*(\\d+)\\s*kB/.exec(readFileSync("/proc/self/status","utf8"))[1]);}',
  'catch{kib=process.resourceUsage().maxRSS;}',
  'process.stderr.write("\\npeakRssKiB="+kib+"\\n");',
  '});',
].join('');

export const REPORT_PEAK_RSS = `data:text/javascript,${encodeURIComponent(reporter)}`;

/** The peak RSS the process reported on its stderr, in MiB; NaN when it did not report one. */
export function peakRssMiB(stderr: string): number {
  const kib = /peakRssKiB=(\d+)/.exec(stderr)?.[1];
  return kib === undefined ? Number.NaN : Number(kib) / 1024;
}
