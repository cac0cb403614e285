import * as fs from 'fs';
import * as path from 'path';
import { Template } from 'aws-cdk-lib/assertions';
import { exampleApp } from './synth-helpers';
import { dashboardBody, drawDashboard, README_END, README_START, readmeBlock, withPicture } from '../../examples/dashboard-picture';

const README = path.join(__dirname, '..', '..', 'README.md');

describe('the README\'s picture of the example dashboard', () => {
  const { stacks } = exampleApp();
  const template = Template.fromStack(stacks.primary).toJSON();
  const picture = drawDashboard(dashboardBody(template as any).widgets);

  test('is the picture drawn from the synthesized dashboard now (regenerate: npx projen dashboard-picture)', () => {
    const readme = fs.readFileSync(README, 'utf8');
    const block = readme.slice(readme.indexOf(README_START), readme.indexOf(README_END) + README_END.length);
    expect(block).toEqual(readmeBlock(picture));
  });

  test('shows every widget title of the dashboard', () => {
    const titles = dashboardBody(template as any).widgets.map((w) => w.properties.title).filter((t): t is string => !!t);
    expect(titles.length).toBeGreaterThan(2);
    for (const title of titles) {
      // The narrowest box (6 grid units) has room for 20 characters; longer titles are clipped with an ellipsis.
      expect(picture).toContain(title.slice(0, 20));
    }
  });

  test('withPicture replaces only the block between the markers', () => {
    const readme = `before\n${README_START}\nold\n${README_END}\nafter\n`;
    expect(withPicture(readme, 'NEW')).toBe(`before\n${readmeBlock('NEW')}\nafter\n`);
    expect(() => withPicture('no markers', 'x')).toThrow(/has no <!-- dashboard-picture:start -->/);
  });
});
