/**
 * Draws the widget grid of a synthesized CloudWatch dashboard as text, for the README (a real screenshot needs an AWS
 * account). Each widget is a box at its grid position with its title; graphs list their lines.
 *
 *   ts-node -P test/tsconfig.json examples/dashboard-picture.ts <cdk.out> <stack>   # prints the picture
 *   ts-node -P test/tsconfig.json examples/dashboard-picture.ts <cdk.out> <stack> --readme README.md   # rewrites its block
 */
import * as fs from 'fs';
import * as path from 'path';

/** Characters per grid unit across (CloudWatch's grid is 24 units wide). */
const COLUMNS_PER_UNIT = 4;
export const README_START = '<!-- dashboard-picture:start -->';
export const README_END = '<!-- dashboard-picture:end -->';

interface Widget {
  readonly type: string;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly properties: { readonly title?: string; readonly markdown?: string; readonly view?: string; readonly metrics?: unknown[][] };
}

/** The dashboard body of the first `AWS::CloudWatch::Dashboard` in a template, with CloudFormation tokens as `…`. */
export function dashboardBody(template: { Resources: Record<string, { Type: string; Properties?: any }> }): { widgets: Widget[] } {
  const dashboard = Object.values(template.Resources).find((r) => r.Type === 'AWS::CloudWatch::Dashboard');
  if (!dashboard) {
    throw new Error('the template has no AWS::CloudWatch::Dashboard');
  }
  const body = dashboard.Properties.DashboardBody;
  const text = typeof body === 'string' ? body
    : (body['Fn::Join'][1] as unknown[]).map((part) => (typeof part === 'string' ? part : '…')).join('');
  return JSON.parse(text);
}

/**
 * What a widget shows, one line each: its title (or the text widget's lines), then its metrics' labels, marked `~` on
 * a graph and `#` on a single-value widget.
 */
function widgetLines(widget: Widget): string[] {
  if (widget.type === 'text') {
    return (widget.properties.markdown ?? '').split('\n').map((l) => l.replace(/^#+\s*/, ''));
  }
  const mark = widget.properties.view === 'singleValue' ? '#' : '~';
  const labels = (widget.properties.metrics ?? []).map((m) => {
    const options = m[m.length - 1] as { label?: string } | string;
    return `${mark} ${typeof options === 'object' && options.label ? options.label : String(m[1])}`;
  });
  return [widget.properties.title ?? '', ...labels];
}

/** The grid as text: one box per widget, at its position and size. */
export function drawDashboard(widgets: readonly Widget[]): string {
  const rows = Math.max(...widgets.map((w) => w.y + w.height)) + 1;
  const cols = 24 * COLUMNS_PER_UNIT + 1;
  // One text line per grid unit down.
  const canvas = Array.from({ length: rows }, () => Array<string>(cols).fill(' '));
  for (const w of widgets) {
    const left = w.x * COLUMNS_PER_UNIT;
    const right = (w.x + w.width) * COLUMNS_PER_UNIT;
    const top = w.y;
    const bottom = w.y + w.height;
    for (let c = left; c <= right; c++) {
      canvas[top][c] = canvas[top][c] === '|' ? '+' : (c === left || c === right ? '+' : '-');
      canvas[bottom][c] = c === left || c === right ? '+' : '-';
    }
    for (let r = top + 1; r < bottom; r++) {
      canvas[r][left] = '|';
      canvas[r][right] = '|';
    }
    const inner = right - left - 3;
    widgetLines(w).slice(0, w.height - 1).forEach((line, i) => {
      const clipped = line.length > inner ? `${line.slice(0, inner - 1)}…` : line;
      [...clipped].forEach((ch, j) => { canvas[top + 1 + i][left + 2 + j] = ch; });
    });
  }
  return canvas.map((r) => r.join('').trimEnd()).join('\n');
}

/** The README block: the picture in a fenced block between the markers. */
export function readmeBlock(picture: string): string {
  return `${README_START}\n\`\`\`text\n${picture}\n\`\`\`\n${README_END}`;
}

/** The README with its dashboard block replaced. */
export function withPicture(readme: string, picture: string): string {
  const start = readme.indexOf(README_START);
  const end = readme.indexOf(README_END);
  if (start < 0 || end < start) {
    throw new Error(`the README has no ${README_START} ... ${README_END} block`);
  }
  return readme.slice(0, start) + readmeBlock(picture) + readme.slice(end + README_END.length);
}

if (require.main === module) {
  const [outdir, stack, flag, readmePath] = process.argv.slice(2);
  const template = JSON.parse(fs.readFileSync(path.join(outdir ?? 'cdk.out', `${stack ?? 'CacheBackupPrimary'}.template.json`), 'utf8'));
  const picture = drawDashboard(dashboardBody(template).widgets);
  if (flag === '--readme') {
    const file = readmePath ?? 'README.md';
    fs.writeFileSync(file, withPicture(fs.readFileSync(file, 'utf8'), picture));
  } else {
    process.stdout.write(`${picture}\n`);
  }
}
