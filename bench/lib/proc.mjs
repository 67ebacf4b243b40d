// Linux /proc readers: CPU time and memory of a process (and its descendants), and of the machine.
import { readFileSync, readdirSync } from 'node:fs';

const TICKS_PER_SECOND = 100; // getconf CLK_TCK on Linux

function read(file) {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** utime+stime (seconds) and parent pid of one process; undefined once it has gone. */
export function processStat(pid) {
  const text = read(`/proc/${pid}/stat`);
  if (!text) return undefined;
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): ppid is field 4, utime 14, stime 15
  return { ppid: Number(fields[1]), cpu: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND };
}

/** VmRSS and VmHWM of one process, in bytes. */
export function processMemory(pid) {
  const text = read(`/proc/${pid}/status`);
  if (!text) return undefined;
  const kb = (name) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/** The pid and every descendant of it (for a cluster primary and its workers). */
export function processTree(pid) {
  const children = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = processStat(entry);
    if (!stat) continue;
    if (!children.has(stat.ppid)) children.set(stat.ppid, []);
    children.get(stat.ppid).push(Number(entry));
  }
  const tree = [];
  const queue = [Number(pid)];
  while (queue.length) {
    const next = queue.shift();
    tree.push(next);
    queue.push(...(children.get(next) ?? []));
  }
  return tree;
}

/** CPU seconds per thread name (main thread = the process name; libuv pool, libvips, V8...). */
export function threadCpu(pid) {
  const byName = {};
  let tasks;
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return byName;
  }
  for (const tid of tasks) {
    const comm = read(`/proc/${pid}/task/${tid}/comm`)?.trim();
    const stat = processStat(`${pid}/task/${tid}`);
    if (!comm || !stat) continue;
    const name = tid === String(pid) ? 'main thread' : comm.replace(/[\d-]+$/, '') || comm;
    byName[name] = (byName[name] ?? 0) + stat.cpu;
  }
  return byName;
}

/** Pids whose command name is one of `names` (e.g. the MariaDB server). */
export function pidsByName(names) {
  const pids = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const comm = read(`/proc/${entry}/comm`)?.trim();
    if (comm && names.includes(comm)) pids.push(Number(entry));
  }
  return pids;
}

/** Busy and total CPU seconds of the whole machine, summed over every core. */
export function machineCpu() {
  const line = read('/proc/stat').split('\n')[0];
  const [, ...values] = line.trim().split(/\s+/);
  const n = values.slice(0, 8).map(Number); // user nice system idle iowait irq softirq steal
  const total = n.reduce((a, b) => a + b, 0);
  const idle = n[3] + n[4];
  return { busy: (total - idle) / TICKS_PER_SECOND, total: total / TICKS_PER_SECOND };
}

/**
 * Watches named groups of processes. `snapshot()` returns CPU seconds per group; while
 * `startPolling()` runs, the RSS of the `memoryGroup` is polled every `intervalMs`.
 */
export class ProcessWatcher {
  /** @param {Record<string, number[] | (() => number[])>} groups pids per group, or a function giving them */
  constructor(groups, { memoryGroup = 'server', intervalMs = 100 } = {}) {
    this.groups = groups;
    this.memoryGroup = memoryGroup;
    this.intervalMs = intervalMs;
    this.peakRss = 0;
    this.rssSamples = 0;
    this.timer = undefined;
  }

  pids(group) {
    const value = this.groups[group];
    return typeof value === 'function' ? value() : value;
  }

  snapshot() {
    const cpu = {};
    for (const group of Object.keys(this.groups)) {
      cpu[group] = this.pids(group).reduce((sum, pid) => sum + (processStat(pid)?.cpu ?? 0), 0);
    }
    const threads = {};
    for (const pid of this.pids(this.memoryGroup)) {
      for (const [name, seconds] of Object.entries(threadCpu(pid))) threads[name] = (threads[name] ?? 0) + seconds;
    }
    return { at: performance.now(), cpu, threads, machine: machineCpu() };
  }

  /** Sum of the RSS of the memory group now, and of each process's own high-water mark. */
  memory() {
    let rss = 0;
    let hwm = 0;
    for (const pid of this.pids(this.memoryGroup)) {
      const m = processMemory(pid);
      if (!m) continue;
      rss += m.rss;
      hwm += m.hwm;
    }
    return { rss, hwm };
  }

  startPolling() {
    this.stopPolling();
    this.peakRss = 0;
    this.rssSamples = 0;
    const poll = () => {
      const { rss } = this.memory();
      this.rssSamples += 1;
      if (rss > this.peakRss) this.peakRss = rss;
    };
    poll();
    this.timer = setInterval(poll, this.intervalMs);
  }

  stopPolling() {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

/** CPU seconds per group and machine-wide busy cores between two snapshots. */
export function cpuDelta(before, after) {
  const seconds = (after.at - before.at) / 1000;
  const groups = {};
  for (const group of Object.keys(after.cpu)) groups[group] = after.cpu[group] - (before.cpu[group] ?? 0);
  const threads = {};
  for (const name of Object.keys(after.threads ?? {})) {
    threads[name] = after.threads[name] - (before.threads?.[name] ?? 0);
  }
  const unaccounted = (groups.server ?? 0) - Object.values(threads).reduce((a, b) => a + b, 0);
  if (Math.abs(unaccounted) > 0.01) threads['(threads gone before the end)'] = unaccounted;
  const busy = after.machine.busy - before.machine.busy;
  return { seconds, groups, threads, machineBusyCores: busy / seconds };
}
