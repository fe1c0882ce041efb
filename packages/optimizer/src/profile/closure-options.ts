import { z } from 'zod';
import { ProfileError } from '../shared/errors.js';

/**
 * Standard library modules a service never imports: tests and their helper extensions, installers and build tools,
 * GUIs and interactive terminals, and Unix interfaces deprecated by PEP 594 whose extensions pull in large libraries.
 */
export const DEFAULT_STDLIB_EXCLUDE = [
  'test',
  'ctypes.test',
  'sqlite3.test',
  'unittest.test',
  'lib2to3',
  'idlelib',
  'tkinter',
  '_tkinter',
  'turtle',
  'turtledemo',
  'ensurepip',
  'venv',
  'distutils',
  'pydoc_data',
  'curses',
  '_curses',
  '_curses_panel',
  'readline',
  'nis',
  'ossaudiodev',
  'spwd',
  '_testcapi',
  '_testbuffer',
  '_testclinic',
  '_testimportmultiple',
  '_testinternalcapi',
  '_testmultiphase',
  '_xxtestfuzz',
  '_ctypes_test',
  'xxlimited',
  'xxlimited_35',
] as const;

/** Libraries glibc dlopens by name, with the reason: kept when the base has them. */
export const DEFAULT_DLOPEN = ['libgcc_s.so.1'] as const;

const moduleName = z.string().regex(/^[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*$/, 'must be a dotted Python module name');
const absolutePath = z
  .string()
  .regex(/^\/[^\0]*$/, 'must be an absolute path')
  .refine((p) => !p.split('/').includes('..'), "must not contain '..' (name the directory itself)");

/** The closure options' schema (also the `closure` key of an optimizer profile). */
export const closureSchema = z
  .object({
    /** The virtual environment (absolute path); default: the only directory holding a pyvenv.cfg. */
    venv: absolutePath.optional(),
    /** Trees kept whole besides the venv: the application (e.g. `/app`). */
    keep: z.array(absolutePath).default([]),
    /** The runtime user (name or uid): its /etc/passwd line and its groups' /etc/group lines are kept. */
    user: z.union([z.string().regex(/^[A-Za-z_][\w.-]*$/, 'must be a user name'), z.number().int().min(0)]),
    stdlib: z
      .object({
        /** Standard library modules left out (a dotted name drops the module and everything below it). */
        exclude: z.array(moduleName).default([...DEFAULT_STDLIB_EXCLUDE]),
        /** Added to `exclude` (e.g. `sqlite3` when the service does not use it). */
        alsoExclude: z.array(moduleName).default([]),
      })
      .strict()
      .prefault({}),
    libraries: z
      .object({
        /** Libraries glibc dlopens by name (not in any DT_NEEDED), kept when present. */
        dlopen: z
          .array(z.string().regex(/^[\w.+-]+\.so(?:\.[\w.]+)?$/, 'must be a library file name'))
          .default([...DEFAULT_DLOPEN]),
        /** The dynamic loader's default directories; default: Debian's for the interpreter's machine. */
        defaultDirs: z.array(absolutePath).optional(),
      })
      .strict()
      .prefault({}),
    /**
     * System files kept when present, with the symlinks to them (a directory is kept whole): the name service order,
     * and the C.UTF-8 locale the Python images set in LANG.
     */
    files: z.array(absolutePath).default(['/etc/nsswitch.conf', '/usr/lib/locale/C.utf8']),
    /**
     * Trees analysed and reported but left out of the written tree, because their own build stages add them (e.g. the
     * venv and the app, compiled in cached stages).
     */
    omit: z.array(absolutePath).default([]),
    /** The CA bundle; default: OpenSSL's default `cert.pem` of the kept libcrypto (`OPENSSLDIR`). */
    caBundle: absolutePath.optional(),
  })
  .strict();

/** Validated closure options, defaults applied. */
export type ClosureOptions = z.output<typeof closureSchema>;
/** What a user may write. */
export type ClosureOptionsInput = z.input<typeof closureSchema>;

/**
 * Validate closure options and apply defaults; every problem is reported at once.
 * @throws {ProfileError} with one issue per problem
 */
export function parseClosureOptions(input: unknown): ClosureOptions {
  const result = closureSchema.safeParse(input ?? {});
  if (!result.success) {
    throw new ProfileError(
      result.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })),
      { cause: result.error },
    );
  }
  return result.data;
}
