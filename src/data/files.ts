/**
 * How loaders reach files: a small interface so the same code runs on Node (node-fs.ts),
 * in the browser (dropped files, fetch) and in tests (in-memory).
 */
export interface FileSource {
  /** Names (not paths) of the files and folders directly in `dir` ('' = root); [] when missing. */
  list(dir: string): Promise<string[]>;
  /** The file's bytes, or null when it does not exist or cannot be read. */
  read(path: string): Promise<Uint8Array | null>;
}

export function joinPath(...parts: string[]): string {
  return parts
    .filter((p) => p.length > 0)
    .join('/')
    .replace(/\/+/g, '/');
}

export function baseName(path: string): string {
  const i = path.lastIndexOf('/');
  return i < 0 ? path : path.slice(i + 1);
}

/** In-memory files keyed by path ("imagesTr/a_0000.nii.gz"). Folders are implied by paths. */
export function memoryFileSource(
  files: Map<string, Uint8Array> | Record<string, Uint8Array>,
): FileSource {
  const map = files instanceof Map ? files : new Map(Object.entries(files));
  const norm = (p: string) => p.replace(/^\.?\/+/, '').replace(/\/+$/, '');
  return {
    async list(dir) {
      const d = norm(dir);
      const prefix = d ? `${d}/` : '';
      const names = new Set<string>();
      for (const key of map.keys()) {
        const k = norm(key);
        if (!k.startsWith(prefix)) continue;
        const rest = k.slice(prefix.length);
        if (rest) names.add(rest.split('/')[0]);
      }
      return [...names].sort();
    },
    async read(path) {
      return map.get(norm(path)) ?? map.get(path) ?? null;
    },
  };
}

/**
 * Files under a base URL, listed by a manifest (the demo ships one): `list` answers from it,
 * `read` fetches `baseUrl + path`.
 */
export function urlFileSource(
  baseUrl: string,
  manifest: string[],
  fetchImpl: typeof fetch = fetch,
): FileSource {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  const mem = memoryFileSource(new Map(manifest.map((p) => [p, new Uint8Array(0)])));
  return {
    list: (dir) => mem.list(dir),
    async read(path) {
      try {
        const res = await fetchImpl(base + path);
        if (!res.ok) return null;
        return new Uint8Array(await res.arrayBuffer());
      } catch {
        return null;
      }
    },
  };
}

/** What a picked or dropped file is to a reader: a Blob, a File or a FileSystemFileHandle's file. */
export interface BlobLike {
  arrayBuffer(): Promise<ArrayBuffer>;
}

/**
 * Files the user picked or dropped, by their relative paths
 * ("case-study/images/a.nii.gz"). When every path starts with the same folder
 * (the one picked, or one dropped folder), that folder is the root and is
 * named `root`; else the files themselves are the root.
 */
export function blobFileSource(entries: readonly { path: string; blob: BlobLike }[]): {
  source: FileSource;
  root: string;
} {
  const paths = entries.map((e) => e.path.replace(/^\/+/, ''));
  const first = paths[0]?.split('/')[0] ?? '';
  const shared =
    paths.length > 0 && paths.every((p) => p.includes('/') && p.split('/')[0] === first);
  const rel = (p: string) => (shared ? p.slice(first.length + 1) : p);
  const byPath = new Map(entries.map((e, i) => [rel(paths[i]), e.blob]));
  const names = memoryFileSource(new Map([...byPath.keys()].map((p) => [p, new Uint8Array(0)])));
  return {
    root: shared ? first : '',
    source: {
      list: (dir) => names.list(dir),
      async read(path) {
        const blob = byPath.get(path.replace(/^\.?\/+/, ''));
        if (!blob) return null;
        try {
          return new Uint8Array(await blob.arrayBuffer());
        } catch {
          return null;
        }
      },
    },
  };
}
