/**
 * The optimizer as a step of a Dockerfile (bundled into one file, `dist/stage/optimizer.cjs`, which @4pass/builder adds
 * to the build context at `.4pass/`), so BuildKit caches its work like any other step and a remote engine does it
 * where the data is:
 *
 *   node optimizer.cjs optimize VENV PROFILE.json     slims VENV in place
 *   node optimizer.cjs closure ROOTFS PROFILE.json    writes the profile's closure of ROOTFS to stdout as a tar
 *
 * Each prints its whole report as one line `4pass-stage-report {"command":…,"report":…}` to stderr (BuildKit shows it
 * in the step's log; @4pass/builder reads it from there), and exits 1 with the reason on stderr when it fails.
 */
export const STAGE_REPORT_PREFIX = '4pass-stage-report ';
