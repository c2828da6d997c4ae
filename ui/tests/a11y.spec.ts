import { test } from './fixtures';
import { SCREENS } from './screens';

// axe is injected as a script tag, which the app's own CSP (rightly) refuses.
test.use({ bypassCSP: true });

for (const colorScheme of ['light', 'dark'] as const) {
  test.describe(`${colorScheme} mode`, () => {
    test.use({ colorScheme });
    for (const screen of SCREENS) {
      test.describe(screen.name, () => {
        test.use({ scenario: screen.scenario });
        test('has no serious or critical axe violations', async ({ app }) => {
          await screen.show(app);
          await app.expectAccessible();
          await app.screenshot(`${screen.name}-landscape-${colorScheme}`);
        });
      });
    }
  });
}
