// @ts-check
// What the running app costs: CPU time and memory of the app's process and
// the WebKit processes it started, read from /proc (Linux). Printed by the
// suite, never asserted: timing goals belong to benchmarks.
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

/** Every process: pid → [parent pid, program file name]. */
function processes() {
  /** @type {Map<number, [number, string]>} */
  const all = new Map();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const stat = read(`/proc/${entry}/stat`);
    const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const program = read(`/proc/${entry}/cmdline`).split('\0')[0]?.split('/').pop() ?? '';
    all.set(pid, [parent, program]);
  }
  return all;
}

/** The app's process and its descendants (the WebKit web and network processes). */
function appTree() {
  const all = processes();
  const root = [...all].find(([, [, program]]) => program === 'zpair-app')?.[0];
  if (root === undefined) throw new Error('the zpair-app process is not running');
  const tree = [root];
  // The array iterator sees what is pushed while it runs: children of children too.
  for (const node of tree) {
    for (const [pid, [parent]] of all) if (parent === node) tree.push(pid);
  }
  return tree;
}

/** @param {number[]} pids user + system CPU ticks so far */
const ticks = (pids) =>
  pids.reduce((sum, pid) => {
    const stat = read(`/proc/${String(pid)}/stat`);
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return sum + Number(fields[11] ?? 0) + Number(fields[12] ?? 0);
  }, 0);

/** @param {number[]} pids proportional set size in KiB */
const pss = (pids) =>
  pids.reduce((sum, pid) => {
    const match = /^Pss:\s+(\d+) kB/m.exec(read(`/proc/${String(pid)}/smaps_rollup`));
    return sum + Number(match?.[1] ?? 0);
  }, 0);

/**
 * CPU (percent of one core) and memory of the app over `ms`, as a table row.
 * @param {string} what
 * @param {number} ms
 */
export async function measure(what, ms) {
  const pids = appTree();
  const before = ticks(pids);
  await new Promise((resolve) => setTimeout(resolve, ms));
  const cpu = ((ticks(pids) - before) / TICKS_PER_SECOND / (ms / 1000)) * 100;
  const row = `| ${what} | ${cpu.toFixed(0)} % of one core | PSS ${(pss(pids) / 1024).toFixed(0)} MiB |`;
  console.log(`  ${row}`);
  return row;
}
