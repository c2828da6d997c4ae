// @ts-check
// What the running app costs: CPU time and memory of the app's process and
// each WebKit process it started, read from /proc (Linux). Used by the
// screens benchmark (`bench.mjs`); measured, never asserted.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

/** @param {string} path */
const read = (path) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
};

/** The fields of /proc/PID/stat after the program name (which may hold spaces). */
const statFields = (/** @type {number} */ pid) => {
  const stat = read(`/proc/${String(pid)}/stat`);
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
};

/** Every process: pid → [parent pid, program file name]. */
function processes() {
  /** @type {Map<number, [number, string]>} */
  const all = new Map();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const parent = Number(statFields(pid)[1]);
    const program = read(`/proc/${entry}/cmdline`).split('\0')[0]?.split('/').pop() ?? '';
    all.set(pid, [parent, program]);
  }
  return all;
}

/** The app's process and its descendants (the WebKit web and network processes), by program name. */
function appTree() {
  const all = processes();
  const root = [...all].find(([, [, program]]) => program === 'zpair-app')?.[0];
  if (root === undefined) throw new Error('the zpair-app process is not running');
  const tree = [root];
  // The array iterator sees what is pushed while it runs: children of children too.
  for (const node of tree) {
    for (const [pid, [parent]] of all) if (parent === node) tree.push(pid);
  }
  return tree.map((pid) => /** @type {[number, string]} */ ([pid, all.get(pid)?.[1] ?? '?']));
}

/** User + system CPU ticks of `pid` so far. */
const ticks = (/** @type {number} */ pid) => {
  const fields = statFields(pid);
  return Number(fields[11] ?? 0) + Number(fields[12] ?? 0);
};

/** Proportional set size of `pid` in KiB. */
const pss = (/** @type {number} */ pid) =>
  Number(/^Pss:\s+(\d+) kB/m.exec(read(`/proc/${String(pid)}/smaps_rollup`))?.[1] ?? 0);

/**
 * @typedef {{ program: string, cpu: number, pssMiB: number }} ProcessCost
 *   cpu in percent of one core
 */

/**
 * CPU and memory of each process of the app over `ms`.
 * @param {number} ms
 * @returns {Promise<ProcessCost[]>}
 */
export async function measure(ms) {
  const tree = appTree();
  const before = tree.map(([pid]) => ticks(pid));
  await new Promise((resolve) => setTimeout(resolve, ms));
  return tree.map(([pid, program], i) => ({
    program,
    cpu: ((ticks(pid) - (before[i] ?? 0)) / TICKS_PER_SECOND / (ms / 1000)) * 100,
    pssMiB: pss(pid) / 1024,
  }));
}
