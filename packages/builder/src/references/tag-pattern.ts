/** A Docker tag (distribution/reference): up to 128 of `[A-Za-z0-9_.-]`, not starting with `.` or `-`. */
export const TAG_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** Whether `tag` is a valid Docker tag. */
export function isValidTag(tag: string): boolean {
  return TAG_PATTERN.test(tag);
}
