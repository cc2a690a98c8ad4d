/**
 * What a graph file may hold. A file beyond these is refused with a located
 * issue before any expensive work, so a hostile or broken file cannot hang
 * the editor or the CLI, overflow the stack or fill the screen. The largest
 * preset has a few hundred nodes; these leave room for a 10,000-unit memory
 * chain and much more.
 */
import { jsonPath } from './schema.ts';
import type { GraphIssue } from './types.ts';

export const GRAPH_LIMITS = {
  /** Characters of file text (checked before parsing). */
  maxTextLength: 32 * 1024 * 1024,
  /** Nesting of objects and arrays, counting the top-level object as 1. */
  maxDepth: 64,
  maxNodes: 20_000,
  maxLinks: 40_000,
  /** Characters of one issue's message; longer ones end in "…". */
  maxMessageLength: 500,
  /** Issues a load lists; the rest are counted in a last "…and N more" issue. */
  maxIssues: 200,
  /** Node ids a cycle's message names before "…". */
  cycleIdsShown: 6,
} as const;

const count = (n: number) => n.toLocaleString('en-US');

const refusal = (path: string, message: string): GraphIssue => ({
  path,
  severity: 'error',
  message,
});

/** Refuses file text longer than the limit (before JSON.parse spends time and memory on it). */
export function checkTextLength(text: string): GraphIssue | undefined {
  if (text.length <= GRAPH_LIMITS.maxTextLength) return undefined;
  return refusal(
    '$',
    `the file holds ${count(text.length)} characters, more than the ${count(GRAPH_LIMITS.maxTextLength)} a graph file may hold`,
  );
}

/**
 * Refuses a parsed document with too many nodes or links (`edges` in format
 * version 0) or nested deeper than the limit. Counts are checked first, in
 * constant time; the depth walk is iterative, so no nesting can overflow the stack.
 */
export function checkDocLimits(doc: Record<string, unknown>): GraphIssue | undefined {
  const lists = [
    ['nodes', GRAPH_LIMITS.maxNodes],
    ['links', GRAPH_LIMITS.maxLinks],
    ['edges', GRAPH_LIMITS.maxLinks],
  ] as const;
  for (const [key, max] of lists) {
    const list = doc[key];
    if (Array.isArray(list) && list.length > max)
      return refusal(
        jsonPath([key]),
        `the graph has ${count(list.length)} ${key}, more than the ${count(max)} allowed`,
      );
  }
  const deep = firstTooDeep(doc, GRAPH_LIMITS.maxDepth);
  if (deep)
    return refusal(
      jsonPath(deep),
      `the file is nested more than ${GRAPH_LIMITS.maxDepth} levels deep here`,
    );
  return undefined;
}

interface Visit {
  value: unknown;
  depth: number;
  key: string | number;
  parent: Visit | undefined;
}

/** The JSON path of the first container nested deeper than `max`, or undefined. */
function firstTooDeep(root: unknown, max: number): (string | number)[] | undefined {
  const stack: Visit[] = [{ value: root, depth: 1, key: '', parent: undefined }];
  while (stack.length) {
    const at = stack.pop() as Visit;
    if (at.value === null || typeof at.value !== 'object') continue;
    if (at.depth > max) {
      const path: (string | number)[] = [];
      for (let v: Visit | undefined = at; v?.parent; v = v.parent) path.push(v.key);
      return path.reverse();
    }
    if (Array.isArray(at.value)) {
      for (let i = at.value.length - 1; i >= 0; i--)
        stack.push({ value: at.value[i], depth: at.depth + 1, key: i, parent: at });
    } else {
      for (const [key, value] of Object.entries(at.value))
        stack.push({ value, depth: at.depth + 1, key, parent: at });
    }
  }
  return undefined;
}

/** A message cut to the limit, ending in "…" when cut. */
export function clipMessage(message: string): string {
  const max = GRAPH_LIMITS.maxMessageLength;
  return message.length <= max ? message : `${message.slice(0, max - 1)}…`;
}

/** Issues with their messages clipped, at most `maxIssues` of them plus one "…and N more". */
export function limitIssues(issues: readonly GraphIssue[]): GraphIssue[] {
  const max = GRAPH_LIMITS.maxIssues;
  const shown = issues
    .slice(0, max)
    .map((i) =>
      i.message.length > GRAPH_LIMITS.maxMessageLength
        ? { ...i, message: clipMessage(i.message) }
        : i,
    );
  if (issues.length > max) {
    const rest = issues.length - max;
    const errors = issues.slice(max).filter((i) => i.severity === 'error').length;
    shown.push({
      path: '$',
      severity: errors ? 'error' : 'warning',
      message: `…and ${count(rest)} more problem${rest === 1 ? '' : 's'} (${count(errors)} of them errors) not listed`,
    });
  }
  return shown;
}
