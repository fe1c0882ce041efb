import type { GateReport, ImageReport } from './gate-report.js';

/** Escapes text for XML attributes and content; drops characters XML 1.0 cannot hold. */
export function xmlEscape(s: string): string {
  return (
    s
      // eslint-disable-next-line no-control-regex -- the point is to drop the control characters XML 1.0 forbids
      .replace(/[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      .replace(/'/g, '&apos;')
  );
}

/**
 * JUnit XML: one `<testsuite>` per image, one `<testcase>` per check (`<failure>` for fail, `<skipped>` for skip; a
 * warning passes and carries its message in `<system-out>`). An image that could not be measured is one failing test
 * case. Pure; returns the text and never throws.
 */
export function renderJUnitReport(report: GateReport): string {
  const a = (s: string | number) => xmlEscape(String(s));
  const suites: string[] = [];
  let tests = 0;
  let failures = 0;
  let skipped = 0;
  for (const image of report.images) {
    const cases: string[] = [];
    let f = 0;
    let s = 0;
    for (const c of image.checks) {
      const head = `    <testcase classname="${a(`image-budget.${image.name}`)}" name="${a(c.id)}" time="0">`;
      const body: string[] = [];
      if (c.status === 'fail') {
        f++;
        const details = c.details?.length ? `\n${c.details.join('\n')}` : '';
        body.push(`      <failure message="${a(c.message)}" type="${a(c.id)}">${a(c.message + details)}</failure>`);
      } else if (c.status === 'skip') {
        s++;
        body.push(`      <skipped message="${a(c.message)}"/>`);
      } else if (c.status === 'warn') {
        body.push(`      <system-out>${a(`WARNING: ${c.message}`)}</system-out>`);
      } else {
        body.push(`      <system-out>${a(c.message)}</system-out>`);
      }
      cases.push([head, ...body, '    </testcase>'].join('\n'));
    }
    const push = pushCase(image);
    if (push) {
      cases.push(push.xml);
      if (push.status === 'fail') f++;
      if (push.status === 'skip') s++;
    }
    const count = image.checks.length + (push ? 1 : 0);
    tests += count;
    failures += f;
    skipped += s;
    suites.push(
      `  <testsuite name="${a(`image-budget: ${image.name}`)}" tests="${count}" failures="${f}" errors="0" skipped="${s}" timestamp="${a(report.generatedAt)}">\n` +
        `    <properties>\n      <property name="imageId" value="${a(image.imageId)}"/>\n      <property name="ref" value="${a(image.ref)}"/>\n    </properties>\n` +
        cases.join('\n') +
        '\n  </testsuite>',
    );
  }
  for (const e of report.errors) {
    tests++;
    failures++;
    suites.push(
      `  <testsuite name="${a(`image-budget: ${e.name}`)}" tests="1" failures="1" errors="0" skipped="0" timestamp="${a(report.generatedAt)}">\n` +
        `    <testcase classname="${a(`image-budget.${e.name}`)}" name="${a(e.stage)}" time="0">\n      <failure message="${a(e.message)}" type="${a(e.stage)}">${a(e.message)}</failure>\n    </testcase>\n  </testsuite>`,
    );
  }
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="image-budget" tests="${tests}" failures="${failures}" errors="0" skipped="${skipped}">\n` +
    suites.join('\n') +
    (suites.length ? '\n' : '') +
    '</testsuites>\n'
  );
}

/** The push as one more test case of the image: failed, skipped, or passed with the tags and digests. */
function pushCase(image: ImageReport): { xml: string; status: 'pass' | 'fail' | 'skip' } | undefined {
  const { push } = image;
  if (!push) return undefined;
  const a = (s: string) => xmlEscape(s);
  const head = `    <testcase classname="${a(`image-budget.${image.name}`)}" name="push" time="0">`;
  const tags = push.tags.map((t) => `${t.tag} -> ${t.digest} (${t.via})`).join('\n');
  const message = push.message ?? '';
  const body =
    push.status === 'failed'
      ? `      <failure message="${a(message)}" type="push">${a(`${message}${tags ? `\nin the registry:\n${tags}` : ''}`)}</failure>`
      : push.status === 'skipped'
        ? `      <skipped message="${a(message)}"/>`
        : `      <system-out>${a(tags)}</system-out>`;
  const status = push.status === 'failed' ? 'fail' : push.status === 'skipped' ? 'skip' : 'pass';
  return { xml: [head, body, '    </testcase>'].join('\n'), status };
}
