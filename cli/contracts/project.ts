/** Finding the contracts of a checkout, on disk or as they were at a git ref. */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { REFERENCE_DIR } from './reference-file.ts';
import { SourceDocument } from './source-document.ts';

export interface ContractSources {
  readonly root: string;
  readonly flows: SourceDocument;
  readonly contracts: SourceDocument[];
  /** The crosswalks of contracts/reference/. */
  readonly reference: SourceDocument[];
}

const CONTRACT_FILE = /^contracts\/[^/]+\/[^/]+\.ya?ml$/;
const REFERENCE_FILE = /^contracts\/reference\/[^/]+\.ya?ml$/;

/** The nearest directory at or above `start` that holds contracts/flows.yaml. */
export function findProjectRoot(start = process.cwd()): string {
  let dir = resolve(start);
  for (;;) {
    if (existsSync(join(dir, 'contracts', 'flows.yaml'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) {
      throw new Error(
        `no contracts/flows.yaml found in ${resolve(start)} or any folder above it; run spine from the project, or pass --root <dir>`,
      );
    }
    dir = parent;
  }
}

export function readWorkingTree(root: string): ContractSources {
  const contractsDir = join(root, 'contracts');
  const files = readdirSync(contractsDir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && `contracts/${entry.name}` !== REFERENCE_DIR)
    .flatMap((entry) =>
      readdirSync(join(contractsDir, entry.name))
        .filter((name) => /\.ya?ml$/.test(name))
        .map((name) => `contracts/${entry.name}/${name}`),
    )
    .sort();
  return {
    root,
    flows: SourceDocument.parse(
      'contracts/flows.yaml',
      readFileSync(join(root, 'contracts/flows.yaml'), 'utf8'),
    ),
    contracts: files.map((file) =>
      SourceDocument.parse(file, readFileSync(join(root, file), 'utf8')),
    ),
    reference: readReferenceData(root),
  };
}

/** The crosswalk files of contracts/reference/ in the working tree (none when the folder is absent). */
export function readReferenceData(root: string): SourceDocument[] {
  const dir = join(root, REFERENCE_DIR);
  return (existsSync(dir) ? readdirSync(dir) : [])
    .filter((name) => /\.ya?ml$/.test(name))
    .sort()
    .map((name) => `${REFERENCE_DIR}/${name}`)
    .map((file) => SourceDocument.parse(file, readFileSync(join(root, file), 'utf8')));
}

function git(root: string, args: string[]): string {
  return execFileSync('git', args, {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 << 20,
  });
}

/** Resolves a ref to a commit, or throws an Error that says what to pass instead. */
export function resolveRef(root: string, ref: string): string {
  try {
    return git(root, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]).trim();
  } catch {
    throw new Error(
      `"${ref}" is not a commit in ${root}; pass a branch, tag or sha (e.g. --against origin/main)`,
    );
  }
}

/**
 * The base CI compares against: $SPINE_CONTRACTS_BASE, else the merge base with origin/main,
 * else HEAD (what the working tree changed since the last commit).
 */
export function defaultBase(root: string): string {
  const fromEnv = process.env.SPINE_CONTRACTS_BASE;
  if (fromEnv) return fromEnv;
  for (const upstream of ['origin/main', 'origin/master']) {
    try {
      return git(root, ['merge-base', 'HEAD', upstream]).trim();
    } catch {
      // no such upstream here
    }
  }
  return 'HEAD';
}

export function readAtRef(root: string, ref: string): ContractSources {
  const commit = resolveRef(root, ref);
  const prefix = relative(git(root, ['rev-parse', '--show-toplevel']).trim(), root);
  const inRepo = (file: string) => (prefix ? `${prefix}/${file}` : file);
  const listed = git(root, ['ls-tree', '-r', '--name-only', commit, '--', inRepo('contracts')])
    .split('\n')
    .filter(Boolean)
    .map((path) => (prefix ? path.slice(prefix.length + 1) : path))
    .sort();
  const contractFiles = listed.filter(
    (file) =>
      CONTRACT_FILE.test(file) && file !== 'contracts/flows.yaml' && !REFERENCE_FILE.test(file),
  );
  const show = (file: string) => git(root, ['show', `${commit}:${inRepo(file)}`]);
  let flowsText = 'flows: {}\n';
  try {
    flowsText = show('contracts/flows.yaml');
  } catch {
    // a ref from before flows existed: every flow is new
  }
  return {
    root,
    flows: SourceDocument.parse('contracts/flows.yaml', flowsText),
    contracts: contractFiles.map((file) => SourceDocument.parse(file, show(file))),
    reference: listed
      .filter((file) => REFERENCE_FILE.test(file))
      .map((file) => SourceDocument.parse(file, show(file))),
  };
}
